"""`db copy` never writes a database password into the project's folder."""

from __future__ import annotations

import pytest

from clinlabel.errors import ValidationError
from clinlabel.labelling.db_copy import copy_project
from clinlabel.labelling.project import Project


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://reader:s3cret-pw@db.example/clin",
        "postgresql+psycopg://reader@db.example/clin?password=s3cret-pw",
    ],
)
def test_attack13_a_url_with_a_password_is_not_remembered(project: Project, url: str) -> None:
    with pytest.raises(ValidationError, match="password"):
        copy_project(project.dir, url)
    settings = project.dir / "project.toml"
    assert not settings.exists() or "s3cret" not in settings.read_text(encoding="utf-8")
