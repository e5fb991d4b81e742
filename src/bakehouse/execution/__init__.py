"""Execution: planning a run's steps, calling user code, IO managers, executors and events.

Runs in the run worker (and in tests); never in the host.
"""
