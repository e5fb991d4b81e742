"""The web UI and JSON API of a deployment: one ASGI app, pages rendered on the server.

Nothing is fetched from a CDN and nothing needs a front-end build: templates and static files
ship in this package.
"""
