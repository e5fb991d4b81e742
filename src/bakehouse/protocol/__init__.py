"""The typed messages between the host and code servers: snapshots, run tags, the ready line.

Neutral ground: both sides import it, and it imports neither (only `errors`, `graph` and the
standard library), so a message type is defined once and read the same way on both ends.
"""
