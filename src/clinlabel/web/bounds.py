"""Every whole number in a URL fits the database: ids, positions, frames, offsets.

FastAPI reads `/api/images/1180591620717411303424` as a Python int, which SQLite cannot store:
the query raised `OverflowError`, a 500 with a traceback. One dependency of the whole app checks
every path and query parameter that is written as a whole number against SQLite's signed 64-bit
range, so a route added later is covered too; request bodies are bounded in `schemas`.
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from clinlabel.web.schemas import MAX_INT64

_WHOLE = re.compile(r"[+-]?[0-9]+")


async def integers_in_range(request: Request) -> None:
    """Raise a 422 for a path or query parameter that is a whole number SQLite cannot hold."""
    sources = (("path", request.path_params.items()), ("query", request.query_params.items()))
    for where, items in sources:
        for name, value in items:
            text = str(value).strip()
            # Short-circuits before int(): Python limits int() of very long digit strings.
            if _WHOLE.fullmatch(text) and (len(text) > 20 or abs(int(text)) > MAX_INT64):
                raise RequestValidationError(
                    [
                        {
                            "type": "less_than_equal",
                            "loc": (where, name),
                            "msg": f"Input should be at most {MAX_INT64}",
                            "input": text[:40],
                        }
                    ]
                )
