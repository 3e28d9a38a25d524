"""Shared pieces for ``ogpu`` subcommand modules."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

__all__ = ["CommandError", "SubParsers"]

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    SubParsers = Any


class CommandError(Exception):
    """A command failed in a way the user can act on; printed without a traceback."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
