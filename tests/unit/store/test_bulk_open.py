"""Opening a project already at head reads its revision and loads no migration (issue 12): the
head read from the migrations' file names must be Alembic's own, or a new one would be skipped."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.migrations import head_revision
from clinlabel.store.store import Store, _alembic_config


def test_the_head_named_for_a_quick_open_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    assert script.get_heads() == [head_revision()]


def test_a_project_at_head_opens_without_loading_alembic(tmp_path: Path) -> None:
    Store.open_dir(tmp_path).close()
    code = (
        "import sys; from pathlib import Path; from clinlabel.store.store import Store; "
        f"Store.open_dir(Path({str(tmp_path)!r})).close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'alembic', 'mako'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_project_one_revision_behind_is_still_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from clinlabel.store.engine import make_engine, sqlite_url

    engine = make_engine(sqlite_url(tmp_path))
    config = _alembic_config()
    previous = ScriptDirectory.from_config(config).get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    with engine.connect().execution_options(clinlabel_write=True) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, previous)
    engine.dispose()
    Store.open_dir(tmp_path).close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]
