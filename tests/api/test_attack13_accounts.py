"""Attacks on team accounts: user names that pass for another user's."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.errors import ValidationError
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.project import open_project

from .team_server import PASSWORD, make_team_project


@pytest.mark.parametrize(
    "name",
    [
        "Ann",  # only the case differs from "ann"
        "ＡＮＮ",  # fullwidth letters
        "ann\u200b",  # a zero-width space
        "\u202eann",  # a right-to-left override
        "\x1b[31mroot",  # a terminal escape
        "bad\x00name",  # NUL (PostgreSQL text refuses it)
        "\u0430nn",  # a Cyrillic "а" among Latin letters
    ],
)
def test_attack13_a_user_name_that_could_pass_for_another_is_refused(
    tmp_path: Path, name: str
) -> None:
    project_dir = make_team_project(tmp_path)
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        with pytest.raises(ValidationError):
            accounts.add(name, Role.ADMIN, PASSWORD, actor="test")
        assert len(accounts.list()) == 4


def test_attack13_names_in_one_alphabet_with_accents_are_kept_composed(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        zoe = accounts.add("Zoe\u0308 Mu\u0308ller", Role.ANNOTATOR, PASSWORD, actor="test")
        assert zoe.name == "Zoë Müller"
        assert (
            accounts.add("田中さくら", Role.ANNOTATOR, PASSWORD, actor="test").name == "田中さくら"
        )
        # Typed decomposed or composed, the same person logs in.
        assert accounts.login("Zoe\u0308 Mu\u0308ller", PASSWORD, address="a").user.id == zoe.id
