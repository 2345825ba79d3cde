"""The page's modules: main.js is the one that knows index.html's element ids (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path

import clinlabel.web

STATIC = Path(clinlabel.web.__file__).parent / "static"
LOOKUP = re.compile(r"getElementById\(|querySelector(?:All)?\(\s*[\"'`][^\"'`]*#")


def page_ids() -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', (STATIC / "index.html").read_text()))


def entry_modules() -> set[str]:
    """The module each page loads first (index.html's main.js, the study pages' own): the one
    that knows its page's element ids."""
    found = set()
    for page in STATIC.glob("*.html"):
        found |= set(
            re.findall(r'<script type="module" src="/static/js/([^"]+)"', page.read_text())
        )
    return found


def test_only_main_js_looks_up_the_page_s_elements() -> None:
    entries = entry_modules()
    assert "main.js" in entries
    looking = sorted(
        path.name
        for path in (STATIC / "js").glob("*.js")
        if path.name not in entries and LOOKUP.search(path.read_text())
    )
    assert looking == []


def test_every_id_main_js_hands_out_is_on_the_page() -> None:
    main = (STATIC / "js" / "main.js").read_text()
    wanted = set(re.findall(r'byId\("([^"]+)"\)', main))
    assert len(wanted) > 50  # the whole page, not a few elements
    assert wanted - page_ids() == set()


def test_every_swallowed_error_says_why_it_does_not_matter() -> None:
    # An empty handler hides the error from the annotator: each one left must carry a comment
    # (on its line or just above) saying why nothing is lost; the others go to the status bar.
    empty = re.compile(r"\.catch\(\(\w*\) => (?:\{\}|null|undefined)\)|catch \{\}")
    silent = []
    for path in sorted((STATIC / "js").glob("*.js")):
        lines = path.read_text().splitlines()
        for at, line in enumerate(lines):
            if empty.search(line) and not any(
                "//" in above for above in lines[max(0, at - 5) : at + 1]
            ):
                silent.append(f"{path.name}:{at + 1}: {line.strip()}")
    assert silent == []
