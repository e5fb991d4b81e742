"""The host side of a deployment: code servers, the global graph, runs, for one workspace.

Used by the webserver, the daemon and the CLI; never imports user code or the authoring API.
"""
