"""The generator's own error type."""

from __future__ import annotations


class CodegenError(Exception):
    """The ABI or data files cannot be turned into bindings; the message names the file and item."""
