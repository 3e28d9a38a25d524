"""On-chain structs: ``ResponseParams`` (generated, ``ogpu_bindings.structs``) and the
pydantic ``SourceParams``/``TaskParams`` (``ogpu.types.params``, loaded on first access:
they import pydantic)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings.structs import ResponseParams

__all__ = ["ResponseParams", "SourceParams", "TaskParams"]

if TYPE_CHECKING:
    from ogpu.types.params import SourceParams, TaskParams
else:

    def __getattr__(name: str) -> Any:
        if name in ("SourceParams", "TaskParams"):
            from ogpu.types import params

            return getattr(params, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
