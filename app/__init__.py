"""The edges of the portal server: settings, the Starlette app, the request context, the CLI."""
