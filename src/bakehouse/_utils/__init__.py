"""Helpers at Dagster's module paths (``dagster._utils...``) that course code imports."""
