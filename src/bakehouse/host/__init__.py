"""The host side of a deployment: code locations, instance and daemon loops for one workspace.

Used by the webserver and ``bh dev``; never imports user code or the authoring API.
"""
