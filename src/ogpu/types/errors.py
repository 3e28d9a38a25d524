"""The OGPUError hierarchy: the SDK errors (hand-written, ``ogpu.errors``) and the
contract errors with the revert tables (generated from ``abis/errors.json`` into
``ogpu_bindings.errors``), re-exported here with the ``Role`` enum the official module
exposes too (``MissingSignerError`` takes one).
"""

from ogpu_bindings.errors import *  # noqa: F403 - the generated contract errors

from ogpu.errors import *  # noqa: F403 - the SDK errors
from ogpu.types.enums import Role as Role

# No __all__: the star import re-exports whatever the generator emits (a
# computed __all__ would hide those names from type checkers).
