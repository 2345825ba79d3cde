"""Guesses sent all at once: each is checked while another's password check runs."""

from __future__ import annotations

import pytest

from clinlabel.errors import AccessError, LoginThrottledError
from clinlabel.labelling import accounts as accounts_module
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.project import Project

PASSWORD = "a long enough password"


def test_attack13_a_guess_arriving_during_another_guess_is_slowed_too(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [10_000.0]
    accounts = Accounts(project.store, clock=lambda: now[0])
    accounts.add("ann", Role.ANNOTATOR, PASSWORD, actor="test")
    refusal = Accounts._refusal
    overlapping: list[BaseException] = []
    arrived: list[bool] = []

    def slow_check(row: object, password: str) -> str | None:
        # While the first guess's argon2 check runs, a second guess arrives (same instant).
        if not arrived:
            arrived.append(True)
            try:
                accounts.login("ann", "second guess!", address="10.0.0.2")
            except AccessError as exc:
                overlapping.append(exc)
        return refusal(row, password)  # type: ignore[arg-type]

    monkeypatch.setattr(accounts_module.Accounts, "_refusal", staticmethod(slow_check))
    with pytest.raises(AccessError):
        accounts.login("ann", "first guess!!", address="10.0.0.1")
    assert len(overlapping) == 1 and isinstance(overlapping[0], LoginThrottledError)
    # A right password after the wait still logs in, and forgets the count.
    monkeypatch.setattr(accounts_module.Accounts, "_refusal", staticmethod(refusal))
    now[0] += 2.0
    assert accounts.login("ann", PASSWORD, address="10.0.0.1").user.name == "ann"
    now[0] += 0.001
    assert accounts.login("ann", PASSWORD, address="10.0.0.1").user.name == "ann"
