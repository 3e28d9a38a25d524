"""The generator's own error type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class CodegenError(Exception):
    """The ABI or data files cannot be turned into bindings; the message names the file and item."""


def expect(cond: bool, message: str) -> None:
    """Raise CodegenError(message) unless ``cond``."""
    if not cond:
        raise CodegenError(message)


def read_json(path: Path) -> Any:
    """The parsed JSON file. Raises CodegenError (missing or invalid file)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodegenError(f"{path.name}: file not found at {path}") from None
    except json.JSONDecodeError as exc:
        raise CodegenError(f"{path.name}: invalid JSON: {exc}") from None
