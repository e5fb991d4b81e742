"""What runs inside a code location's own interpreter: loader, code server, evaluations, run worker.

The host never imports this package; it starts it as a process (`python -m bakehouse ...`).
"""
