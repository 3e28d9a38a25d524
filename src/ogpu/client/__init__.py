"""Client workflows: publish sources and tasks, manage them, read and confirm responses.

Every write signs with ``private_key=`` (kept for backward compatibility) or
``signer=`` (a hex key or a ``LocalAccount``), else ``CLIENT_PRIVATE_KEY``.
Input and the on-chain preconditions are checked before anything is pinned to
IPFS or sent; a refused call raises a typed ``OGPUError`` and sends nothing. A
task is also checked against its source's manifest when the source publishes one
(``ogpu.manifest``: ``UnknownFunctionError``, ``TaskDataError``; ``validate=False``
skips it).

Example::

    from ogpu.client import publish_task, TaskInfo, TaskInput

    task = publish_task(TaskInfo(
        source="0x...",
        config=TaskInput(function_name="predict", data={"text": "hi"}),
        expiryTime=int(time.time()) + 3600,
        payment=10**16,
    ))
    print(task.address, task.get_status())

Many tasks from one key: ``publish_tasks([...])`` checks them all first, then
pipelines the transactions (consecutive nonces, batched broadcasts and receipts).
"""

from __future__ import annotations

from ogpu.client._common import DEFAULT_IPFS_TIMEOUT, DEFAULT_RECEIPT_TIMEOUT
from ogpu.client.agents import revoke_agent, set_agent
from ogpu.client.sources import inactivate_source, publish_source, update_source
from ogpu.client.tasks import (
    PublishTasksError,
    cancel_task,
    confirm_response,
    get_task_responses,
    publish_task,
    publish_tasks,
)
from ogpu.protocol import Response, Source, Task
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    Receipt,
    SourceInfo,
    SourceMetadata,
    TaskInfo,
    TaskInput,
    TxHash,
    combine_environments,
    environment_names,
    parse_environments,
)

__all__ = [
    "DEFAULT_IPFS_TIMEOUT",
    "DEFAULT_RECEIPT_TIMEOUT",
    "DeliveryMethod",
    "Environment",
    "ImageEnvironments",
    "PublishTasksError",
    "Receipt",
    "Response",
    "Source",
    "SourceInfo",
    "SourceMetadata",
    "Task",
    "TaskInfo",
    "TaskInput",
    "TxHash",
    "cancel_task",
    "combine_environments",
    "confirm_response",
    "environment_names",
    "get_task_responses",
    "inactivate_source",
    "parse_environments",
    "publish_source",
    "publish_task",
    "publish_tasks",
    "revoke_agent",
    "set_agent",
    "update_source",
]
