"""The OGPUError hierarchy.

Every class is generated from ``abis/errors.json`` into ``ogpu_bindings.errors``
and re-exported here, with the ``Role`` enum the official module exposes too
(``MissingSignerError`` takes one).
"""

from ogpu_bindings.errors import *  # noqa: F403 - the whole generated hierarchy

from ogpu.types.enums import Role as Role

# No __all__: the star import re-exports whatever the generator emits (a
# computed __all__ would hide those names from type checkers).
