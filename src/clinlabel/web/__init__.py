"""The browser face: FastAPI built by `create_app(settings)`, plain ES modules, no build step."""
