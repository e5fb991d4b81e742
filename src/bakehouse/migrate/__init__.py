"""Migrating a Dagster project to bakehouse: ``bh migrate-from-dagster`` plans and applies it.

A host-side tool: it reads and rewrites the project's files and checks names against bakehouse
in a child interpreter, never importing the authoring API into the CLI's process.
"""
