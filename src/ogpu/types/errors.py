"""The OGPUError hierarchy.

Every class is generated from ``abis/errors.json`` into ``ogpu_bindings.errors``
and re-exported here.
"""

from ogpu_bindings.errors import *  # noqa: F403 - the whole generated hierarchy

# No __all__: the star import re-exports whatever the generator emits (a
# computed __all__ would hide those names from type checkers).
