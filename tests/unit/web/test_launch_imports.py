"""What `clinlabel label` pays before its first image (issue 14: under 2 s at a million
images): loading the web layer hashes no password. The team server's accounts module made an
argon2 hash at import (about 0.4 s), for logins the single-annotator server never takes."""

from __future__ import annotations

import subprocess
import sys

_CHILD = """
import argon2
made = []
hash_it = argon2.PasswordHasher.hash
def counted(self, *args, **kwargs):
    made.append(1)
    return hash_it(self, *args, **kwargs)
argon2.PasswordHasher.hash = counted
import clinlabel.web.app, clinlabel.web.auth, clinlabel.labelling.accounts
print(len(made))
"""


def test_loading_the_web_layer_hashes_no_password() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["0"], done.stderr


def test_an_unknown_name_is_still_checked_against_a_hash() -> None:
    from clinlabel.labelling import accounts

    accounts.prepare_logins()
    assert accounts._dummy_hash().startswith("$argon2id$")
