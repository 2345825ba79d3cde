"""The browser face: a FastAPI app built by `create_app(settings)`, plain ES modules, no build step."""
