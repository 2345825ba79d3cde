"""Load and faults (issue 13): simulated annotators labelling at once through `clinlabel serve`.

    .venv/bin/python benchmarks/bench_team_load.py [--clients 50] [--seconds 120]
        [--database-url URL]   # an empty PostgreSQL database; else a throwaway cluster is started

Each client logs in as its own user and saves one label per second (a random image, a random
label), keeping what the server acknowledged. Two runs:
- SQLite: one server process;
- PostgreSQL: two server processes on one database; half-way through one is killed (SIGKILL)
  and its clients retry on the other (the login is valid there: logins live in the database).
After each run every acknowledged label must be the reader's label in the database (0 lost), no
request may have failed for good (0 errors) and the audit chain must verify.

Baseline, in the same run: the latency of `POST /api/session/touch` (the same login, guard,
routing and writer thread, no label) against the same servers, printed as the ratio
label p50 / touch p50.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _common import percentile
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.audit_trail import verify_project
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store.schema import annotators, labels

PASSWORD = "benchmark password"
LABELS = ("Suspicious", "Non-Suspicious")
OPEN_LINE = re.compile(r"Open: (http://\S+/)")


def make_batch(root: Path, n: int) -> Path:
    for i in range(n):
        folder = root / f"Case_{i // 50 + 1}" / "Visit_1" / "XC"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"img{i % 50 + 1}.jpg").write_bytes(b"\xff\xd8\xff" + str(i).encode())
    return root


class Server:
    """One `clinlabel serve` process."""

    def __init__(self, project_dir: Path, log: Path, database_url: str | None) -> None:
        args = [sys.executable, "-m", "clinlabel", "serve", str(project_dir), "--port", "0"]
        if database_url:
            args += ["--database-url", database_url]
        with log.open("w") as handle:
            self.proc = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = OPEN_LINE.search(log.read_text())
            if found:
                self.url = found.group(1).rstrip("/")
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"serve did not start:\n{log.read_text()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Client:
    name: str
    servers: list[str]
    home: int
    latencies: list[float] = field(default_factory=list)
    touches: list[float] = field(default_factory=list)
    acked: dict[int, str] = field(default_factory=dict)
    retries: int = 0
    errors: int = 0


async def _request(
    http: httpx.AsyncClient, client: Client, method: str, path: str, body: object
) -> tuple[httpx.Response, float]:
    """Send to the client's server; on a dead server or a 5xx, retry (the other one too)."""
    for attempt in range(40):
        base = client.servers[(client.home + attempt) % len(client.servers)]
        start = time.perf_counter()
        try:
            answer = await http.request(method, base + path, json=body)
        except httpx.TransportError:
            client.retries += 1
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
            continue
        if answer.status_code >= 500:
            client.retries += 1
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
            continue
        return answer, time.perf_counter() - start
    raise RuntimeError(f"{client.name}: no server answered {method} {path}")


async def run_client(client: Client, image_ids: list[int], seconds: float) -> None:
    rng = random.Random(client.name)
    async with httpx.AsyncClient(timeout=30) as http:
        login, _ = await _request(
            http, client, "POST", "/api/auth/login", {"name": client.name, "password": PASSWORD}
        )
        login.raise_for_status()
        # As the page does first: the reader's labelling session opens (not counted).
        opened, _ = await _request(http, client, "GET", "/api/session", None)
        opened.raise_for_status()
        end = time.monotonic() + seconds
        next_at = time.monotonic() + rng.random()
        while time.monotonic() < end:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1.0
            image, label = rng.choice(image_ids), rng.choice(LABELS)
            answer, took = await _request(
                http, client, "PUT", f"/api/images/{image}/label", {"label": label}
            )
            if answer.status_code == 200:
                client.latencies.append(took)
                client.acked[image] = label
            else:
                client.errors += 1
            if rng.random() < 0.2:
                touched, took = await _request(http, client, "POST", "/api/session/touch", None)
                if touched.status_code == 204:
                    client.touches.append(took)


def lost_labels(project_dir: Path, clients: list[Client]) -> int:
    """Acknowledged labels that are not the reader's label in the database now."""
    from sqlalchemy import select

    with open_project(project_dir) as project, project.store.read() as conn:
        rows = conn.execute(
            select(annotators.c.name, labels.c.image_id, labels.c.label)
            .join(annotators, annotators.c.id == labels.c.annotator_id)
            .where(labels.c.frame == 0)
        ).all()
    stored = {(name, image): label for name, image, label in rows}
    return sum(
        1
        for client in clients
        for image, label in client.acked.items()
        if stored.get((client.name, image)) != label
    )


def prepare(root: Path, clients: int, images: int, database_url: str | None) -> Path:
    project_dir = root / "project"
    init_project(make_batch(root / "batch", images), project_dir, database_url=database_url)
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        accounts.add("admin", Role.ADMIN, PASSWORD, actor="bench")
        for i in range(clients):
            accounts.add(f"reader{i:02d}", Role.ANNOTATOR, PASSWORD, actor="bench")
    return project_dir


def image_ids(project_dir: Path) -> list[int]:
    from sqlalchemy import select

    from clinlabel.store.schema import images

    with open_project(project_dir) as project, project.store.read() as conn:
        return [int(i) for i in conn.execute(select(images.c.id)).scalars()]


def run(label: str, root: Path, args: argparse.Namespace, database_url: str | None) -> bool:
    project_dir = prepare(root, args.clients, args.images, database_url)
    ids = image_ids(project_dir)
    count = 2 if database_url else 1
    servers = [Server(project_dir, root / f"serve-{i}.log", database_url) for i in range(count)]
    urls = [s.url for s in servers]
    clients = [Client(f"reader{i:02d}", urls, i % count) for i in range(args.clients)]

    async def main() -> None:
        tasks = [asyncio.create_task(run_client(c, ids, args.seconds)) for c in clients]
        if count > 1:
            await asyncio.sleep(args.seconds / 2)
            servers[0].kill()  # mid-run, no warning: its clients go to the other one
        await asyncio.gather(*tasks)

    try:
        asyncio.run(main())
    finally:
        for server in servers:
            server.stop()
    lost = lost_labels(project_dir, clients)
    trail = verify_project(project_dir)
    saves = [t for c in clients for t in c.latencies]
    touches = [t for c in clients for t in c.touches]
    errors = sum(c.errors for c in clients)
    retries = sum(c.retries for c in clients)
    p50, p99 = percentile(saves, 50) * 1000, percentile(saves, 99) * 1000
    base = percentile(touches, 50) * 1000 if touches else float("nan")
    print(
        f"{label}: {len(clients)} readers x {args.seconds:.0f} s, {len(saves)} labels acknowledged;"
        f" label p50 {p50:.1f} ms, p99 {p99:.1f} ms; touch p50 {base:.1f} ms"
        f" (label/touch p50 {p50 / base:.2f}x); errors {errors}, retries {retries},"
        f" lost {lost}; chain {'verified' if trail.ok else 'BROKEN'} ({trail.events} events)"
    )
    return errors == 0 and lost == 0 and trail.ok


def throwaway_postgres(root: Path) -> tuple[str, list[str]]:
    """An initdb'd cluster on a Unix socket (as the tests start one); (URL, pg_ctl stop)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("No PostgreSQL here: pass --database-url, or run `make setup`.")
    bin_dir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="clinlabel-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    folder.chmod(0o755)
    data, port = folder / "data", 54000 + os.getpid() % 1000
    run_ = [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "clinlabel"]
    subprocess.run(run_, check=True, capture_output=True)
    options = f"-k {folder} -p {port} -c listen_addresses='' -c max_connections=300"
    ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    log = str(folder / "server.log")
    subprocess.run([*ctl, "-l", log, "-o", options, "-w", "start"], check=True, capture_output=True)
    import psycopg

    with psycopg.connect(
        f"host={folder} port={port} user=clinlabel dbname=postgres", autocommit=True
    ) as conn:
        conn.execute('CREATE DATABASE "bench"')
    return (
        f"postgresql+psycopg://clinlabel@/bench?host={folder}&port={port}",
        [*ctl, "-m", "fast", "stop"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--database-url", help="An empty PostgreSQL database.")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-team-") as tmp:
        root = Path(tmp)
        if not args.skip_sqlite:
            (root / "sqlite").mkdir()
            ok &= run("SQLite, 1 server", root / "sqlite", args, None)
        stop: list[str] = []
        url = args.database_url
        if url is None:
            url, stop = throwaway_postgres(root)
        try:
            (root / "pg").mkdir()
            ok &= run("PostgreSQL, 2 servers, one killed half-way", root / "pg", args, url)
        finally:
            if stop:
                subprocess.run(stop, capture_output=True)
                shutil.rmtree(url.split("host=", 1)[1].split("&", 1)[0], ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
