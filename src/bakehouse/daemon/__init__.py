"""Daemon loops of a deployment: run queue, schedules, sensors, backfills, run monitoring.

Host side: never imports user code; talks to code locations through snapshots and run workers.
"""
