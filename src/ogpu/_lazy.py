"""Module attributes that load on first access (PEP 562), shared by the package inits.

``__getattr__, __dir__ = lazy_attributes(__name__, {"Name": "module.path"}, globals())``
gives a package names that import their module only when first read; the value
is then cached in the package's namespace. A name mapped to the package's own
submodule (``{"client": "ogpu.client"}``) is that module. Type checkers see the real imports
under ``if TYPE_CHECKING:`` instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the lazily loaded ``names``
    (name -> module that defines it). No import until a name is read.

    Raises (from the returned ``__getattr__``):
        AttributeError: ``name`` is neither loaded nor lazy.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        value = imported if module == f"{package}.{name}" else getattr(imported, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
