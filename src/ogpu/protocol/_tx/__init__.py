"""The transaction engine under the two write drivers, by concern.

- ``outcome``: what a broadcast's answer proves (``Verdict``; one classifier for every
  write path) and the error of a proven refusal.
- ``calls``: reads, retried when transient, and JSON-RPC batches.
- ``prepare``: chain id and gas estimates (the preflight), one transaction or many.
- ``fees``: the fee fields, and their bump after an "underpriced" refusal.
- ``send``: local signing, one broadcast, settling an uncertain one by its hash.
- ``sendmany``: many transactions from one account, consecutive nonces, batched sends.
- ``receipts``: waiting for receipts (one or many), ``Receipt`` values, status 0.
- ``clock``: every wait capped by the ambient budget.

The drivers: ``ogpu.protocol._executor`` (``TxExecutor``, ``execute_request``: one
transaction) and ``ogpu.protocol._pipeline`` (``execute_requests``, under
``ogpu.client.publish_tasks``: many). Internal.
"""
