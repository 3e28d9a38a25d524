"""On-chain structs: ``ResponseParams`` (generated, ``ogpu_bindings.structs``) and the
pydantic ``SourceParams``/``TaskParams`` (``ogpu.types.params``, loaded on first access:
they import pydantic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings.structs import ResponseParams

from ogpu._lazy import lazy_attributes

__all__ = ["PARAMS", "ResponseParams", "SourceParams", "TaskParams"]

#: The pydantic models and their module (loaded on first access: it imports pydantic).
PARAMS = dict.fromkeys(("SourceParams", "TaskParams"), "ogpu.types.params")

if TYPE_CHECKING:
    from ogpu.types.params import SourceParams, TaskParams
else:
    __getattr__, __dir__ = lazy_attributes(__name__, PARAMS, globals())
