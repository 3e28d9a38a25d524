"""Shared test helpers, one copy each: loopback ports and polling (``wait``), the
variables a test must not inherit (``state``; the SDK's own state: ``ogpu.reset()``),
a ganache process (``ganache``).

Import them relatively from a test folder: ``from ..helpers.wait import free_port``.
"""
