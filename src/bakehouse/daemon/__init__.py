"""Daemon loops of a deployment: the run queue now; schedules, sensors and run monitoring later.

Host side: never imports user code; talks to code locations through snapshots and run workers.
"""
