"""The typed model of a task client: what the template prints, decided in full.

:mod:`ogpu.taskclient.build` fills it from a manifest; the template only prints it.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

__all__ = ["AliasModel", "ClassModel", "ClientModel", "FieldModel", "FunctionModel"]


@dataclass(frozen=True)
class FieldModel:
    """One field: ``name: annotation = Field(...)``; ``key`` is the JSON key."""

    name: str
    key: str
    annotation: str
    required: bool
    default: str  # a Python literal; unused when required
    constraints: tuple[tuple[str, str], ...]
    description: str

    @property
    def plain_default(self) -> bool:
        """Whether ``name: annotation = default`` says it all (an immutable default only)."""
        return (
            not self.required
            and self.key == self.name
            and not self.constraints
            and not self.description
            and not self.default.startswith(("[", "{"))
        )

    @property
    def field_args(self) -> list[str]:
        """The arguments of ``Field(...)`` (empty: no ``Field`` needed)."""
        args = [] if self.required else [f"default={self.default}"]
        if self.key != self.name:
            args += [f"validation_alias={self.key!r}", f"serialization_alias={self.key!r}"]
        args += [f"{name}={value}" for name, value in self.constraints]
        if self.description:
            args.append(f"description={self.description!r}")
        return args


@dataclass(frozen=True)
class ClassModel:
    """A pydantic model class; ``extra`` is pydantic's policy for unknown keys."""

    name: str
    doc: str
    fields: tuple[FieldModel, ...]
    extra: str
    by_name: bool

    @property
    def doc_lines(self) -> list[str]:
        return _wrap([" ".join(self.doc.split())])


@dataclass(frozen=True)
class AliasModel:
    """``name: TypeAlias = annotation`` (an enum, or a definition that is not an object);
    ``late``: printed after the classes (it names one)."""

    name: str
    annotation: str
    late: bool = False


@dataclass(frozen=True)
class FunctionModel:
    """One handler: ``publish_<name>`` and ``result_<name>``."""

    name: str
    input: str
    output: str
    doc: str
    timeout: float | None

    @property
    def publish_doc(self) -> list[str]:
        """Docstring lines of ``publish_<name>``."""
        limit = f" (the handler's timeout: {self.timeout:g} s)" if self.timeout else ""
        summary = self.doc.split("\n\n", 1)[0].replace("\n", " ").strip()
        return _wrap(
            [
                f"Publish one ``{self.name}`` task{limit}.",
                *([summary] if summary else []),
                "``payment`` in wei; ``expiry`` the unix time the task expires. The task is "
                "checked against the source's manifest before anything is pinned or paid "
                "(``validate=False`` skips it). Raises what ``ogpu.client.publish_task`` raises.",
            ]
        )

    @property
    def result_doc(self) -> list[str]:
        """Docstring lines of ``result_<name>``."""
        return _wrap(
            [
                f"The {self.output} of a ``{self.name}`` task: its confirmed response, "
                "else its first.",
                "``timeout`` (seconds) waits for a response to arrive; without it the call "
                "does not wait. Raises ResultNotReadyError (no response yet) or TaskResultError "
                f"(the handler failed, or the answer is not a {self.output}).",
            ]
        )


@dataclass(frozen=True)
class ClientModel:
    """Everything the template prints."""

    source: str | None
    manifest_hash: str
    framework: str
    framework_version: str
    origin: str
    aliases: tuple[AliasModel, ...]
    classes: tuple[ClassModel, ...]
    functions: tuple[FunctionModel, ...]

    @property
    def early_aliases(self) -> list[AliasModel]:
        return [a for a in self.aliases if not a.late]

    @property
    def late_aliases(self) -> list[AliasModel]:
        return [a for a in self.aliases if a.late]

    @property
    def exports(self) -> list[str]:
        names = [a.name for a in self.aliases] + [c.name for c in self.classes]
        calls = [f"{verb}_{f.name}" for f in self.functions for verb in ("publish", "result")]
        # constants, then classes, then functions (ruff's RUF022 order)
        return ["MANIFEST_HASH", "SOURCE", *sorted(names), *sorted(calls)]

    @property
    def typing_imports(self) -> list[str]:
        """The ``typing`` names the module uses."""
        text = " ".join(
            [a.annotation for a in self.aliases]
            + [f.annotation for c in self.classes for f in c.fields]
        )
        used = [name for name in ("Annotated", "Any", "Literal") if re.search(rf"\b{name}\b", text)]
        return used + (["TypeAlias"] if self.aliases else [])

    @property
    def uses_field(self) -> bool:
        return any(f.field_args or "Field(" in f.annotation for c in self.classes for f in c.fields)


def _wrap(paragraphs: list[str], width: int = 88) -> list[str]:
    """Docstring lines: paragraphs wrapped to ``width``, a blank line between them."""
    lines: list[str] = []
    for paragraph in paragraphs:
        if lines:
            lines.append("")
        lines += textwrap.wrap(paragraph, width) or [""]
    return lines
