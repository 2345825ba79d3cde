"""The project database: the only package with SQL in it."""
