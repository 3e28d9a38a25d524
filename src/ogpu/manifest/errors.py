"""Typed errors of source manifests: a malformed manifest, and tasks a manifest refuses.

Both task refusals are :class:`~ogpu.types.InvalidParamsError` (so also
``InvalidInputError`` and ``ValueError``): they are raised before anything is
pinned or paid, like every other refusal of bad input.
"""

from __future__ import annotations

from ogpu._jsonvalue import JsonPath, format_json_path
from ogpu.types import InvalidInputError, InvalidParamsError

__all__ = ["InvalidManifestError", "TaskDataError", "UnknownFunctionError"]


class InvalidManifestError(InvalidInputError):
    """A document is not a source manifest this SDK can read (see :mod:`ogpu.manifest`)."""


class UnknownFunctionError(InvalidParamsError):
    """The task names a function the source's manifest does not list.

    ``function``: the name asked for; ``available``: the manifest's functions;
    ``suggestion``: the closest available name, or None.
    """

    def __init__(
        self,
        function: str,
        available: tuple[str, ...],
        suggestion: str | None,
        *,
        source: str | None = None,
    ) -> None:
        where = f"source {source}" if source else "the source"
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        listed = ", ".join(available) if available else "none"
        super().__init__(
            f"{where} has no function {function!r}{hint} (its manifest lists: {listed})",
            param="function_name",
        )
        self.function = function
        self.available = available
        self.suggestion = suggestion
        self.source = source


class TaskDataError(InvalidParamsError):
    """The task's data does not match the function's input schema.

    ``path``: where in ``data`` (keys and list indices); ``location``: the path as text
    (``data.texts[3]``); ``reason``: what the schema requires there.
    """

    def __init__(
        self, function: str, path: JsonPath, reason: str, *, source: str | None = None
    ) -> None:
        location = format_json_path(path, "data")
        where = f" of source {source}" if source else ""
        super().__init__(
            f"the data for {function!r}{where} does not match its input schema at "
            f"{location}: {reason}",
            param="data",
        )
        self.function = function
        self.path = path
        self.location = location
        self.reason = reason
        self.source = source
