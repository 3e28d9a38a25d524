"""Module attributes that load on first access (PEP 562), shared by the package inits.

A package lists the names it re-exports lazily once, as the imports of its
``if TYPE_CHECKING:`` block, and ends that block with::

    else:
        __getattr__, __dir__ = lazy_imports(__name__, globals())

Type checkers follow the imports; at run time the first read of a name parses the
package's source for that block (a few hundred microseconds, once) and imports only
the module holding the name; the value is then cached in the package's namespace.
``from ogpu import agent`` inside package ``ogpu`` names the submodule ``ogpu.agent``.
:func:`lazy_attributes` takes the table (name -> module) directly.
"""

from __future__ import annotations

import ast
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
        module = lazy().get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        value = imported if module == f"{package}.{name}" else getattr(imported, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *lazy()})

    return __getattr__, __dir__


def lazy_imports(package: str, namespace: dict[str, Any]) -> Hooks:
    """:func:`lazy_attributes` over the names ``package`` imports in its top-level
    ``if TYPE_CHECKING:`` block (read from its source on first use). No import until a
    name is read."""
    return lazy_attributes(package, lambda: _type_checking_imports(package), namespace)


def _type_checking_imports(package: str) -> dict[str, str]:
    """Name -> module of every ``from M import N [as A]`` under the package's top-level
    ``if TYPE_CHECKING:``; ``M`` is the package itself for a submodule. Reads one file."""
    spec = importlib.util.find_spec(package)
    loader = spec.loader if spec else None
    source = loader.get_source(package) if isinstance(loader, InspectLoader) else None
    if source is None:
        raise ImportError(f"cannot read the source of {package} for its lazy names")
    table: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    for alias in statement.names:
                        name = alias.asname or alias.name
                        home = statement.module
                        table[name] = f"{home}.{alias.name}" if home == package else home
    return table
