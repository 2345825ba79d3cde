"""Wrong passwords sent all at once, by several server processes on one database: the failed-login
count is read and raised atomically, so exactly one guess is checked per wait and every other
one is told to wait the full delay (1 s, 2 s, 4 s, ...); none slips through.

Each "process" is its own `Store` (its own engine and connections) on the same database, as two
`clinlabel serve` processes behind one PostgreSQL are; the clock is fixed, so the expected
delays are exact.
"""

from __future__ import annotations

import threading

import pytest

from clinlabel.errors import AccessError, LoginThrottledError
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
        try:
            accounts.login(names[i], f"wrong guess {i}!", address=addresses[i])
        except AccessError as exc:
            with lock:
                answers.append(exc)

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
