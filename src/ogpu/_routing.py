"""The one rule for a task's ``function_name``: what the service side can route (stdlib only).

A source service serves each handler at ``POST /run/{function}/{task_address}``
and the provider runtime builds that URL from the task config's
``function_name``. A name is routable when it is an ASCII identifier of at most
:data:`MAX_FUNCTION_NAME_LENGTH` characters: a Python function name, so no
path separator, dot segment, percent-encoding, whitespace or control character
can reach the URL. The service refuses to register any other handler name, the
provider refuses to dispatch any other task, and the client refuses to publish
one (before anything is pinned or paid).
"""

from __future__ import annotations

import re

__all__ = ["FUNCTION_NAME_PATTERN", "MAX_FUNCTION_NAME_LENGTH", "function_name_problem"]

MAX_FUNCTION_NAME_LENGTH = 128
FUNCTION_NAME_PATTERN = rf"^[A-Za-z_][A-Za-z0-9_]{{0,{MAX_FUNCTION_NAME_LENGTH - 1}}}$"
_FUNCTION_NAME = re.compile(FUNCTION_NAME_PATTERN)


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 60 else repr(name[:57]) + f"… ({len(name)} characters)"


def function_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be routed to a handler, or ``None`` when it can. No I/O."""
    if not isinstance(name, str):
        return f"function_name must be a str, got {type(name).__name__}"
    if not name:
        return "function_name is empty; name the source's handler (e.g. 'predict')"
    if len(name) > MAX_FUNCTION_NAME_LENGTH:
        return (
            f"function_name {_shown(name)} is longer than {MAX_FUNCTION_NAME_LENGTH} "
            "characters; no handler can have that name"
        )
    # fullmatch, not match: '$' would accept a trailing newline
    if _FUNCTION_NAME.fullmatch(name) is None:
        return (
            f"function_name {_shown(name)} is not a handler name: use ASCII letters, digits "
            "and '_' (not starting with a digit); the service routes only such names"
        )
    return None
