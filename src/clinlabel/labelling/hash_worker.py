"""A worker process of a large import's file hashing (`import_hashes.FileHashing`).

    python -m clinlabel.labelling.hash_worker BATCH

Reads lists of relpaths (marshal) from stdin and writes each list's SHA-256s (None where
`BatchHasher` reads nothing) to stdout, until stdin ends. It ignores Ctrl+C: the importing
process ends it (and, should that process die, its stdin ends and so does the worker).
"""

from __future__ import annotations

import marshal
import signal
import sys
from pathlib import Path

from clinlabel.labelling.import_hashes import BatchHasher


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    hasher = BatchHasher(Path(sys.argv[1]))
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            relpaths = marshal.load(requests)
        except EOFError:
            return
        marshal.dump([hasher.sha256(relpath) for relpath in relpaths], answers)
        answers.flush()


if __name__ == "__main__":
    main()
