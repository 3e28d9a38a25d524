"""Typed errors of source manifests: a malformed manifest, and tasks a manifest refuses.

Both task refusals are :class:`~ogpu.types.InvalidParamsError` (so also
``InvalidInputError`` and ``ValueError``): they are raised before anything is
pinned or paid, like every other refusal of bad input.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

from ogpu._jsonvalue import JsonPath, format_json_path
from ogpu.types import InvalidInputError, InvalidParamsError

__all__ = ["InvalidManifestError", "TaskDataError", "UnknownFunctionError"]


class InvalidManifestError(InvalidInputError):
    """A document is not a source manifest this SDK can read (see :mod:`ogpu.manifest`)."""


@dataclass(eq=False, repr=False)
class UnknownFunctionError(InvalidParamsError):
    """The task names a function the source's manifest does not list.

    ``function``: the name asked for; ``available``: the manifest's functions;
    ``suggestion``: the closest available name, or None.
    """

    function: str
    available: tuple[str, ...]
    suggestion: str | None
    _: KW_ONLY
    message: str | None = None
    source: str | None = None
    param: str | None = "function_name"

    def __post_init__(self) -> None:
        where = f"source {self.source}" if self.source else "the source"
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        listed = ", ".join(self.available) if self.available else "none"
        if self.message is None:
            self.message = (
                f"{where} has no function {self.function!r}{hint} (its manifest lists: {listed})"
            )
        super().__post_init__()


@dataclass(eq=False, repr=False)
class TaskDataError(InvalidParamsError):
    """The task's data does not match the function's input schema.

    ``path``: where in ``data`` (keys and list indices); ``location``: the path as text
    (``data.texts[3]``); ``reason``: what the schema requires there.
    """

    function: str
    path: JsonPath
    reason: str
    _: KW_ONLY
    message: str | None = None
    source: str | None = None
    param: str | None = "data"
    location: str = field(init=False)

    def __post_init__(self) -> None:
        self.location = format_json_path(self.path, "data")
        where = f" of source {self.source}" if self.source else ""
        if self.message is None:
            self.message = (
                f"the data for {self.function!r}{where} does not match its input schema at "
                f"{self.location}: {self.reason}"
            )
        super().__post_init__()
