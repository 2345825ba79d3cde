"""De-identification engine: what PS3.15 Annex E says identifies a person (no DB, no web)."""
