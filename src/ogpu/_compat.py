"""Tolerance of the keyword arguments official SDK calls may pass and ours does not use.

The official client and agent wrappers accept (and silently drop) any extra
keyword argument, so that code written for their older signatures (``nonce=``,
``auto_fix_nonce=``, ``max_retries=``...) keeps running. Ours accepts them too,
but says so: an ``IgnoredArgumentsWarning`` names the dropped arguments (never
their values, which could be keys). ``warnings.filterwarnings("ignore",
category=IgnoredArgumentsWarning)`` restores the official silence.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

__all__ = ["IgnoredArgumentsWarning", "ignore_extra"]


class IgnoredArgumentsWarning(UserWarning):
    """An SDK call was given keyword arguments it does not use (accepted for compatibility)."""


def ignore_extra(function: str, extra: Mapping[str, object]) -> None:
    """Warn (``IgnoredArgumentsWarning``, at the caller of ``function``) when ``extra`` is
    not empty. No I/O."""
    if extra:
        names = ", ".join(sorted(extra))
        warnings.warn(
            f"{function}() ignores the keyword arguments it does not use: {names}",
            IgnoredArgumentsWarning,
            stacklevel=3,
        )
