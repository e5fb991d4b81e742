"""Project settings: finding a project from a directory and reading its `pyproject.toml`.

Standard library only, so the CLI and host can read settings without loading user code.
"""
