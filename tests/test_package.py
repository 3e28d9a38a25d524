from pathlib import Path

import tomllib

import ogpu


def test_version_matches_pyproject() -> None:
    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert ogpu.__version__ == meta["project"]["version"]
