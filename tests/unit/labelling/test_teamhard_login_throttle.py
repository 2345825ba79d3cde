"""Wrong passwords sent all at once, by several server processes on one database: the failed-login
count is read and raised atomically, so exactly one guess is checked per wait and every other
one is told to wait the full delay (1 s, 2 s, 4 s, ...); none slips through.

Each "process" is its own `Store` (its own engine and connections) on the same database, as two
`clinlabel serve` processes behind one PostgreSQL are; the clock is fixed, so the expected
delays are exact.
"""

from __future__ import annotations

import threading
import time

import pytest

from clinlabel.errors import AccessError, LoginBusyError, LoginThrottledError
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import Project
from clinlabel.store import users as user_rows
from clinlabel.store.store import Store

PASSWORD = "a long enough password"
GUESSES = 6


def _other_store(project: Project) -> Store:
    """Another server process's view of the same project database."""
    if project.store.dialect == "sqlite":
        return Store.open_dir(project.dir)
    return Store.open_url(project.store.reader_url)


def _all_at_once(
    stores: list[Store], now: float, *, names: list[str], addresses: list[str]
) -> list[BaseException]:
    """One wrong password per store, all released together; what each was answered."""
    start = threading.Barrier(len(stores))
    answers: list[BaseException] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        accounts = Accounts(stores[i], clock=lambda: now)
        start.wait()
        while True:
            try:
                accounts.login(names[i], f"wrong guess {i}!", address=addresses[i])
            except LoginBusyError:
                # Another guess is being checked: asked again after it, as the login route does.
                time.sleep(0.01)
                continue
            except AccessError as exc:
                with lock:
                    answers.append(exc)
            return

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _tally(answers: list[BaseException]) -> tuple[int, list[float]]:
    checked = [a for a in answers if not isinstance(a, LoginThrottledError)]
    waits = sorted(a.retry_after_s for a in answers if isinstance(a, LoginThrottledError))
    assert len(checked) + len(waits) == GUESSES
    return len(checked), waits


@pytest.mark.parametrize("shared", ["account", "address"])
def test_teamhard_concurrent_wrong_passwords_get_exactly_the_expected_delays(
    project: Project, shared: str
) -> None:
    Accounts(project.store).add("ann", Role.ANNOTATOR, PASSWORD, actor="test")
    stores = [_other_store(project) for _ in range(GUESSES)]
    if shared == "account":
        # One account guessed from six addresses (a botnet).
        names = ["ann"] * GUESSES
        addresses = [f"10.0.0.{i}" for i in range(GUESSES)]
    else:
        # Six accounts guessed from one address (password spraying).
        names = ["ann", *(f"user{i}" for i in range(1, GUESSES))]
        addresses = ["10.9.9.9"] * GUESSES
    try:
        now = 50_000.0
        for round_, delay in enumerate((1.0, 2.0, 4.0, 8.0)):
            answers = _all_at_once(stores, now, names=names, addresses=addresses)
            checked, waits = _tally(answers)
            # Exactly one guess per round reaches the password check; each other one is told
            # to wait the whole delay that one failure more earns.
            assert checked == 1, f"round {round_}: {checked} guesses were checked"
            assert waits == [delay] * (GUESSES - 1), f"round {round_}"
            now += delay
    finally:
        for store in stores:
            store.close()
    failed = [e for e in read_events(project.dir, limit=0) if e["kind"] == "login_failed"]
    assert len(failed) == 4


def test_teamhard_a_failure_count_is_locked_while_one_login_counts_it(project: Project) -> None:
    """The store's own guarantee, without the project's write lock around it: a second
    transaction reading a key's count waits for the first to count its attempt."""
    with project.store.write() as conn:
        user_rows.count_failure(conn, "user:ann", at=1.0)
    if project.store.dialect == "sqlite":
        pytest.skip("SQLite's write transactions hold the whole database (BEGIN IMMEDIATE)")
    other = _other_store(project)
    seen: list[tuple[int, float] | None] = []
    first_counted = threading.Event()
    try:
        with project.store.engine.connect() as first, first.begin():
            assert user_rows.lock_failures(first, ["user:ann"]) == [(1, 1.0)]

            def second() -> None:
                with other.engine.connect() as conn, conn.begin():
                    seen.extend(user_rows.lock_failures(conn, ["user:ann"]))
                    user_rows.count_failure(conn, "user:ann", at=3.0)

            thread = threading.Thread(target=second)
            thread.start()
            # The second cannot have read yet: the first still holds the row.
            thread.join(timeout=0.5)
            assert thread.is_alive() and not seen
            assert user_rows.count_failure(first, "user:ann", at=2.0) == 2
            first_counted.set()
        thread.join()
        assert seen == [(2, 2.0)]
        with project.store.read() as conn:
            assert user_rows.failures(conn, "user:ann") == (3, 3.0)
    finally:
        other.close()


def test_teamhard_unknown_keys_read_as_no_failures(project: Project) -> None:
    with project.store.write() as conn:
        assert user_rows.lock_failures(conn, ["addr:1", "user:x"]) == [None, None]
        assert user_rows.failures(conn, "addr:1") is None
        assert user_rows.count_failure(conn, "addr:1", at=5.0) == 1
        assert user_rows.lock_failures(conn, ["user:x", "addr:1"]) == [None, (1, 5.0)]


def _attacker_round(accounts: Accounts, clock: list[float], name: str, password: str) -> float:
    """One login attempt made as soon as allowed; how long it had to wait first."""
    waited = 0.0
    while True:
        try:
            accounts.login(name, password, address="10.1.1.1")
            return waited
        except LoginThrottledError as slowed:
            waited += slowed.retry_after_s
            clock[0] += slowed.retry_after_s + 0.001
        except AccessError:
            return waited


def test_teamhard_logging_in_to_ones_own_account_does_not_reset_the_address_wait(
    project: Project,
) -> None:
    """Password spraying by an insider: a guess at each other account, with a login to their
    own between guesses; the address's wait keeps doubling all the same."""
    clock = [70_000.0]
    accounts = Accounts(project.store, clock=lambda: clock[0])
    victims = ["v1", "v2", "v3", "v4", "v5", "v6"]
    for name in ["mallory", *victims]:
        accounts.add(name, Role.ANNOTATOR, PASSWORD, actor="test")
    waits = []
    for victim in victims:
        guess = _attacker_round(accounts, clock, victim, "Summer2026!")
        waits.append(guess + _attacker_round(accounts, clock, "mallory", PASSWORD))
    # Each round waits for the address, doubling: 1, 2, 4, 8, 16, 32 s (a success resetting
    # the address would leave every round at the first second).
    assert [round(w) for w in waits] == [1, 2, 4, 8, 16, 32], waits


def test_teamhard_a_colleagues_typo_does_not_hold_up_the_next_login_and_is_forgotten(
    project: Project,
) -> None:
    clock = [80_000.0]
    accounts = Accounts(project.store, clock=lambda: clock[0])
    for name in ("ann", "bea"):
        accounts.add(name, Role.ANNOTATOR, PASSWORD, actor="test")
    with pytest.raises(AccessError):
        accounts.login("ann", "a typo in it", address="10.2.2.2")
    clock[0] += 1.5
    assert accounts.login("ann", PASSWORD, address="10.2.2.2").user.name == "ann"
    clock[0] += 0.01  # a colleague behind the same router, right after
    assert accounts.login("bea", PASSWORD, address="10.2.2.2").user.name == "bea"
    with project.store.read() as conn:
        assert user_rows.failures(conn, "user:ann") is None
        # ann's own typo, accounted for by her login; not a colleague's.
        assert user_rows.failures(conn, "addr:10.2.2.2") is None
    with pytest.raises(AccessError):
        accounts.login("bea", "bea's typo", address="10.2.2.2")
    clock[0] += 1.01
    assert accounts.login("ann", PASSWORD, address="10.2.2.2").user.name == "ann"
    with project.store.read() as conn:
        assert user_rows.failures(conn, "addr:10.2.2.2") == (1, clock[0] - 1.01)
    clock[0] += 2.0
    # Many typos, then an hour without one: the address starts again at one second.
    for _ in range(5):
        clock[0] += 400.0
        with pytest.raises(AccessError):
            accounts.login("ann", "a typo in it", address="10.2.2.2")
    clock[0] += 3601.0
    with pytest.raises(AccessError):
        accounts.login("ann", "a typo in it", address="10.2.2.2")
    clock[0] += 1.01
    assert accounts.login("ann", PASSWORD, address="10.2.2.2").user.name == "ann"
