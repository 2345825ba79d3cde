"""The settings of one `clinlabel label` server, built by the CLI and passed to `create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from clinlabel.imaging import viewing

#: Rendition sizes the page may ask for; a fixed set keeps the disk cache small and reusable.
#: 256 is the visit strip's and compare list's thumbnails.
MAX_SIDES = (256, 1024, 2048, 4096)
#: Colour DICOM frames are sent at their own size up to this long side (`imaging.viewing`).
OWN_SIZE_LIMIT = viewing.OWN_SIZE_LIMIT


@dataclass(frozen=True)
class WebSettings:
    """Everything the web face needs to know; no module-level state anywhere in `web/`.

    `project_dir` and `annotator` may be left out: the start page then asks for them, as the seed's
    workflow does (batch, output, name, start).
    """

    batch: Path
    token: str
    port: int
    host: str = "127.0.0.1"
    project_dir: Path | None = None
    annotator: str | None = None
    schema_path: Path | None = None
    max_side: int = 2048
    idle_threshold_s: float = 300.0
    #: Bound of the project's rendition cache on disk (`imaging.rendition_store`).
    rendition_cache_bytes: int = 2 * 1024**3
    #: The memory budget of one decoded image (`imaging.budget`; `label --memory-budget-mb`).
    memory_budget_bytes: int = 512 * 1024 * 1024
    #: Largest request body accepted (`body_limit.BodyLimit`); larger ones get a 413.
    max_body_bytes: int = 1024 * 1024
    #: Extra `Host` values to accept besides 127.0.0.1:PORT and localhost:PORT (tests only).
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def allowed_hosts(self) -> frozenset[str]:
        names = {"127.0.0.1", "localhost", self.host}
        hosts = {f"{name}:{self.port}" for name in names}
        return frozenset(hosts | set(self.extra_hosts))

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.allowed_hosts)

    @property
    def cookie_name(self) -> str:
        # Cookies are not isolated by port: two servers on one machine must not share a token name.
        return f"clinlabel_token_{self.port}"

    def suggested_project_dir(self) -> Path:
        """A sibling of the batch folder, never inside it (nothing is written inside a batch)."""
        batch = self.batch.resolve()
        return batch.parent / f"{batch.name}-clinlabel"
