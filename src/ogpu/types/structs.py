"""On-chain structs (generated into ``ogpu_bindings.structs``), re-exported."""

from __future__ import annotations

from ogpu_bindings.structs import ResponseParams, SourceParams, TaskParams

__all__ = ["ResponseParams", "SourceParams", "TaskParams"]
