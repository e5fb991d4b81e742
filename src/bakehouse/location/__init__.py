"""Code locations: snapshots of user definitions, the processes that load them, and clients.

Host-side modules (`client`, `snapshot`) never import the authoring API or user code; the
code-server side (`loader`, `worker`) does, in the location's own interpreter.
"""
