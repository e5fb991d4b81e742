"""Modules at the paths of Dagster's ``dagster._core``, for code that imports from there."""
