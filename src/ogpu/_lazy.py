"""Module attributes that load on first access (PEP 562), shared by the package inits.

A package lists the names it re-exports lazily once, as the imports of its
``if TYPE_CHECKING:`` block, and ends that block with::

    else:
        __getattr__, __dir__ = lazy_imports(__name__, globals())

Type checkers follow the imports; at run time the first read of a name reads the
package's compiled imports (its bytecode, so sourceless installs work; well under a
millisecond, once) and imports only the module holding the name; the value is then
cached in the package's namespace.
``from ogpu import agent`` inside package ``ogpu`` names the submodule ``ogpu.agent``.
:func:`lazy_attributes` takes the table directly: name -> ``"module"`` (the attribute of
that name), ``"module:attr"`` (another name there) or ``"module:"`` (the module itself).
"""

from __future__ import annotations

import dis
import importlib
import importlib.util
from collections.abc import Callable, Mapping
from importlib.abc import InspectLoader
from typing import Any

Hooks = tuple[Callable[[str], Any], Callable[[], list[str]]]


def lazy_attributes(
    package: str,
    names: Mapping[str, str] | Callable[[], Mapping[str, str]],
    namespace: dict[str, Any],
) -> Hooks:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the lazily loaded ``names``
    (name -> module that defines it, or a function building that table on first use).
    No import until a name is read.

    Raises (from the returned ``__getattr__``):
        AttributeError: ``name`` is neither loaded nor lazy.
    """
    table: Mapping[str, str] | None = None if callable(names) else names

    def lazy() -> Mapping[str, str]:
        nonlocal table
        if table is None:
            assert callable(names)
            table = names()
        return table

    def __getattr__(name: str) -> Any:
        where = lazy().get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, colon, attribute = where.partition(":")
        imported = importlib.import_module(module)
        # "module:" names the module itself (``from pkg import sub``)
        value = imported if colon and not attribute else getattr(imported, attribute or name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *lazy()})

    return __getattr__, __dir__


def lazy_imports(package: str, namespace: dict[str, Any]) -> Hooks:
    """:func:`lazy_attributes` over the names ``package`` imports in its top-level
    ``if TYPE_CHECKING:`` block (read from its bytecode on first use). No import until a
    name is read."""
    return lazy_attributes(package, lambda: _type_checking_imports(package), namespace)


def _type_checking_imports(package: str) -> dict[str, str]:
    """Name -> module of every top-level ``from M import N [as A]`` of the package (those
    under ``if TYPE_CHECKING:`` are the ones not yet bound); ``M`` is the package itself for
    a submodule. Reads the compiled module (its ``.pyc`` or source), so a package shipped
    without sources (a frozen app) works too."""
    spec = importlib.util.find_spec(package)
    loader = spec.loader if spec else None
    code = loader.get_code(package) if isinstance(loader, InspectLoader) else None
    if code is None:
        raise ImportError(f"cannot read the code of {package} for its lazy names")
    parent = package if spec and spec.submodule_search_locations is not None else None
    parent = parent or package.rpartition(".")[0]
    table: dict[str, str] = {}
    home = name = ""
    # Bytecode, not the AST: the import opcodes are stable across 3.10+ and exist
    # where the source does not.
    instructions = list(dis.get_instructions(code))
    for i, op in enumerate(instructions):
        if op.opname == "IMPORT_NAME":
            level = instructions[i - 2].argval if i >= 2 else 0
            dots = "." * level if isinstance(level, int) else ""
            home = importlib.util.resolve_name(dots + (op.argval or ""), parent)
        elif op.opname == "IMPORT_FROM":
            name = op.argval
        elif op.opname in ("STORE_NAME", "STORE_GLOBAL") and name:
            table[op.argval] = _where(package, home, name, op.argval)
            name = ""
    return table


def _where(package: str, home: str, name: str, alias: str) -> str:
    """The table entry for ``from home import name as alias`` inside ``package``."""
    if home == package:  # ``from pkg import sub``: the submodule
        return f"{package}.{name}:"
    return home if alias == name else f"{home}:{name}"
