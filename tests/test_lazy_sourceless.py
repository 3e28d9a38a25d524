"""``ogpu._lazy.lazy_imports`` resolves a package's lazy names from its compiled imports,
so a package installed without its ``.py`` sources (a frozen or byte-compiled app) still
loads them. Each case builds a real package on disk and imports it in a fresh
interpreter."""

from __future__ import annotations

import compileall
import subprocess
import sys
from pathlib import Path

import pytest

INIT = """\
from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports

EAGER = 1

if TYPE_CHECKING:
    from lazydemo import sub
    from lazydemo.values import ANSWER, helper as renamed
    from .values import Thing
    from json import dumps
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
"""
VALUES = "ANSWER = 42\ndef helper():\n    return 'h'\nclass Thing:\n    pass\n"
CHECK = """\
import sys
import lazydemo as m
assert 'lazydemo.values' not in sys.modules
assert m.ANSWER == 42 and m.renamed() == 'h' and m.Thing.__name__ == 'Thing'
assert m.sub.NAME == 'sub' and m.dumps([1]) == '[1]'
assert {'ANSWER', 'renamed', 'Thing', 'sub', 'dumps', 'EAGER'} <= set(dir(m))
try:
    m.missing
except AttributeError:
    pass
else:
    raise AssertionError('an unknown name resolved')
print(m.__file__)
"""


def _package(root: Path) -> Path:
    pkg = root / "lazydemo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(INIT)
    (pkg / "values.py").write_text(VALUES)
    (pkg / "sub.py").write_text("NAME = 'sub'\n")
    return pkg


@pytest.mark.parametrize("sourceless", [False, True], ids=["sources", "pyc-only"])
def test_lazy_names_load_with_or_without_sources(tmp_path: Path, sourceless: bool) -> None:
    pkg = _package(tmp_path)
    if sourceless:
        # Legacy layout (pkg/mod.pyc beside, no .py): what byte-compiled installs ship.
        assert compileall.compile_dir(pkg, legacy=True, quiet=1)
        for source in pkg.glob("*.py"):
            source.unlink()
    out = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(".pyc" if sourceless else ".py")
