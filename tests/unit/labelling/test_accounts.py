"""Accounts of the team server: argon2id, the slowing of failed logins, idle logins."""

from __future__ import annotations

import pytest

from clinlabel.errors import AccessError, LoginThrottledError, ValidationError
from clinlabel.labelling.accounts import MAX_WAIT_S, Accounts, Role
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import Project

PASSWORD = "a long enough password"


@pytest.fixture
def accounts(project: Project) -> tuple[Accounts, list[float]]:
    now = [10_000.0]
    found = Accounts(project.store, idle_s=600, clock=lambda: now[0])
    found.add("ann", Role.ANNOTATOR, PASSWORD, actor="test")
    return found, now


def _fail(accounts: Accounts, *, address: str = "10.0.0.1") -> None:
    with pytest.raises(AccessError) as refused:
        accounts.login("ann", "wrong password", address=address)
    assert not isinstance(refused.value, LoginThrottledError)


def test_each_failure_in_a_row_doubles_the_wait(accounts: tuple[Accounts, list[float]]) -> None:
    found, now = accounts
    for failures in range(1, 6):
        _fail(found)
        wait = 2.0 ** (failures - 1)
        now[0] += wait - 0.01
        with pytest.raises(LoginThrottledError) as early:
            found.login("ann", PASSWORD, address="10.0.0.1")
        assert 0 < early.value.retry_after_s <= 0.011
        now[0] += 0.02
    # After the wait the right password works, and the count starts again.
    assert found.login("ann", PASSWORD, address="10.0.0.1").user.name == "ann"
    _fail(found)
    now[0] += 1.01
    assert found.login("ann", PASSWORD, address="10.0.0.1").user.name == "ann"


def test_the_wait_is_bounded(accounts: tuple[Accounts, list[float]]) -> None:
    found, now = accounts
    for _ in range(20):
        _fail(found)
        now[0] += MAX_WAIT_S + 1
    with pytest.raises(AccessError):
        found.login("ann", "wrong again", address="10.0.0.1")


def test_another_address_waits_for_the_account_too(
    accounts: tuple[Accounts, list[float]],
) -> None:
    found, _ = accounts
    _fail(found, address="10.0.0.1")
    # Guessing one account's password from many machines is slowed all the same.
    with pytest.raises(LoginThrottledError):
        found.login("ann", PASSWORD, address="10.0.0.2")


def test_idle_login_ends_and_activity_keeps_it(
    accounts: tuple[Accounts, list[float]], project: Project
) -> None:
    found, now = accounts
    login = found.login("ann", PASSWORD, address="10.0.0.1")
    now[0] += 590
    assert found.resolve(login.session_id).name == "ann"
    now[0] += 590
    assert found.resolve(login.session_id).name == "ann"
    now[0] += 601
    with pytest.raises(AccessError, match="without activity"):
        found.resolve(login.session_id)
    with pytest.raises(AccessError):  # ended for good, not only for this request
        found.resolve(login.session_id)
    events = [e for e in read_events(project.dir, limit=0) if e["kind"] == "logout"]
    assert len(events) == 1 and '"idle"' in str(events[0]["data"])


def test_passwords_are_argon2id_and_never_stored_plain(
    accounts: tuple[Accounts, list[float]], project: Project
) -> None:
    from clinlabel.store import users as user_rows

    with project.store.read() as conn:
        row = user_rows.find_user(conn, "ann")
    assert row is not None and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    trail = str(read_events(project.dir, limit=0))
    assert PASSWORD not in trail


def test_names_and_roles_are_checked(accounts: tuple[Accounts, list[float]]) -> None:
    found, _ = accounts
    with pytest.raises(ValidationError, match="already"):
        found.add(" ann ", Role.ADMIN, PASSWORD, actor="t")
    with pytest.raises(ValidationError, match="space"):
        found.add("bob", Role.ADMIN, PASSWORD + " ", actor="t")
