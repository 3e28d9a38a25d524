"""Client workflows: publish sources and tasks, manage them, read and confirm responses.

Every write signs with ``private_key=`` (kept for backward compatibility) or
``signer=`` (a hex key or a ``LocalAccount``), else ``CLIENT_PRIVATE_KEY``.
Input and the on-chain preconditions are checked before anything is pinned to
IPFS or sent; a refused call raises a typed ``OGPUError`` and sends nothing.

Example::

    from ogpu.client import publish_task, TaskInfo, TaskInput

    task = publish_task(TaskInfo(
        source="0x...",
        config=TaskInput(function_name="predict", data={"text": "hi"}),
        expiryTime=int(time.time()) + 3600,
        payment=10**16,
    ))
    print(task.address, task.get_status())
"""

from __future__ import annotations

from ogpu.client._common import DEFAULT_IPFS_TIMEOUT, DEFAULT_RECEIPT_TIMEOUT
from ogpu.client.agents import revoke_agent, set_agent
from ogpu.client.sources import inactivate_source, publish_source, update_source
from ogpu.client.tasks import cancel_task, confirm_response, get_task_responses, publish_task
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
)

__all__ = [
    "DEFAULT_IPFS_TIMEOUT",
    "DEFAULT_RECEIPT_TIMEOUT",
    "DeliveryMethod",
    "Environment",
    "ImageEnvironments",
    "Receipt",
    "Response",
    "Source",
    "SourceInfo",
    "SourceMetadata",
    "Task",
    "TaskInfo",
    "TaskInput",
    "cancel_task",
    "confirm_response",
    "get_task_responses",
    "inactivate_source",
    "publish_source",
    "publish_task",
    "revoke_agent",
    "set_agent",
    "update_source",
]
