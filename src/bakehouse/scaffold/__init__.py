"""Scaffolding: new projects and workspaces, and new definition files from templates.

Host side: it writes files and runs the project's interpreter for what needs user code (the
component types a project defines), and never imports the authoring API or components itself.
"""
