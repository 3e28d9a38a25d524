"""The transaction engine under ``TxExecutor`` and ``execute_requests``, by concern.

- ``outcome``: what a broadcast's answer proves (one classifier for every write path).
- ``prepare``: chain id, gas estimate (the preflight) and fees, before anything is signed.
- ``send``: local signing, the broadcast, and settling an uncertain broadcast by its hash.
- ``receipts``: waiting for receipts, building ``Receipt`` values, explaining status 0.

Internal: the public entry points are ``ogpu.protocol.TxExecutor``, ``execute_request``
and ``ogpu.client.publish_tasks``.
"""
