import pytest

import ogpu.devnet.pytest_plugin as devnet_plugin


def pytest_configure(config: pytest.Config) -> None:
    # pytest_plugins is only allowed in the rootdir conftest; register directly.
    if not config.pluginmanager.is_registered(devnet_plugin):
        config.pluginmanager.register(devnet_plugin, "ogpu.devnet.pytest_plugin")
