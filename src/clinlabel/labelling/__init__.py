"""Use cases every interface calls: open a project, label, navigate, save outputs."""
