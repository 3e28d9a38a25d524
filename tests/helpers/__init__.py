"""Shared test helpers, one copy each: loopback ports and polling (``wait``), the
variables a test must not inherit (``state``; the SDK's own state: ``ogpu.reset()``),
a ganache process (``ganache``), children that answer in JSON (``child``), the one
JSON-RPC proxy with its faults (``proxy``, ``faults``), the session devnet over HTTP
(``served``: ``rpc_server``, ``proxy``, ``store_server``), a mempool in front of a node
(``mempool``) and the order ``make test`` runs modules in (``schedule``,
``module_seconds.json``).

Import them relatively from a test folder: ``from ..helpers.wait import free_port``.
"""
