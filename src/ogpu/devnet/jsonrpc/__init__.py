"""The devnet's Ethereum JSON-RPC implementation over eth-tester, one module per concern.

:class:`~ogpu.devnet.jsonrpc.dispatcher.JsonRpcDispatcher` combines the method groups
(``blocks``, ``state``, ``sending``, ``logs``, ``control``) over the shared state of
``core``; ``values`` and ``errors`` hold the wire formats. :mod:`ogpu.devnet.server`
serves it over HTTP and re-exports the public names.
"""
