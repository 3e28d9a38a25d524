"""The one rule for a task id that travels in a URL path segment.

The service route ``POST /run/{function}/{task_id}``, the callback URL
``{CALLBACK_URL}/{task_id}`` and the provider's callback server all apply it: 1 to
128 of ``A-Z a-z 0-9 _ . : -``, not starting with a dot. No slash (plain or encoded:
``%`` is not allowed), no dot-segment (``.``, ``..``), no query or fragment, nothing
a URL resolver would rewrite: the segment lands where it was meant to. A task
address (``0x`` + 40 hex digits) always passes.
"""

from __future__ import annotations

import re

__all__ = ["TASK_ID_PATTERN", "is_task_id"]

TASK_ID_PATTERN = r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,127}$"
_TASK_ID = re.compile(TASK_ID_PATTERN)


def is_task_id(value: object) -> bool:
    """Whether ``value`` may be used as a task id in a URL path. No I/O."""
    return isinstance(value, str) and _TASK_ID.fullmatch(value) is not None
