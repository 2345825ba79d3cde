"""The schema's migrations (Alembic scripts in `versions/`).

`HEAD_REVISION` names the newest of them, so that opening a project already at head reads one
row and loads no migration script (Alembic's script directory imports every one of them, a
noticeable part of a short command such as `clinlabel export`). A new migration changes it too;
`tests/unit/store/test_bulk_open.py` checks that it is Alembic's own head.
"""

HEAD_REVISION = "0010"
