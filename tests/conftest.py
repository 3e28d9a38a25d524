# Suite-wide secrets guard: fail any test during which a private key in use appears in a
# log record, an SDK exception or a warning (see tests/reliability/secrets_guard.py).
from .reliability.secrets_guard import (  # noqa: F401
    ogpu_secrets_guard,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
    pytest_warning_recorded,
)

# The devnet fixtures (``devnet``, ``devnet_session``) are opt-in, as for any project.
pytest_plugins = ["ogpu.devnet.pytest_plugin"]
