"""pytest fixtures for the in-process devnet.

Opt in with one line in the rootdir ``conftest.py``::

    pytest_plugins = ["ogpu.devnet.pytest_plugin"]

(or ``pytest -p ogpu.devnet.pytest_plugin``). Installing ``ogpu`` registers
nothing in other projects' test runs.
Importing this module is cheap and does not need eth-tester; the fixtures do.

- ``devnet_session``: one :class:`~ogpu.devnet.chain.Devnet` (one deployment)
  per test session.
- ``devnet``: the same chain, snapshotted before the test and reverted after,
  so every test starts from the freshly deployed state without redeploying.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ogpu.devnet.chain import Devnet

__all__ = ["devnet", "devnet_session"]


@pytest.fixture(scope="session")
def devnet_session() -> Devnet:
    """The session's shared devnet (deployed once, about a second).

    Raises ``DevnetDependencyError`` when eth-tester is not installed.
    """
    from ogpu.devnet.chain import Devnet

    return Devnet()


@pytest.fixture
def devnet(devnet_session: Devnet) -> Iterator[Devnet]:
    """The session devnet, reverted to its state before the test when the test ends."""
    snapshot_id = devnet_session.snapshot()
    try:
        yield devnet_session
    finally:
        devnet_session.revert(snapshot_id)
