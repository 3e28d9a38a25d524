"""``ogpu task watch``: follow a task's events until it is final (or responded).

Prints the current status, then each ``TaskStatusChanged``, ``Attempted`` and
``ResponseSubmitted`` event of the task in chain order (``--json``: one object
per line), then the final state. Ctrl-C stops it at once (:func:`run_async`).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from ogpu.cli._common import add_common, amount, connect, read_chain
from ogpu.cli._output import emit, now_moment
from ogpu.cli.base import CommandError

__all__ = ["TERMINAL", "run_async", "watch", "watch_arguments"]

T = TypeVar("T")
TERMINAL = ("FINALIZED", "CANCELED", "EXPIRED")


def watch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", help="task contract address")
    parser.add_argument(
        "--until",
        choices=("final", "responded"),
        default="final",
        help="stop at FINALIZED/CANCELED/EXPIRED (final, default) or already at RESPONDED",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, metavar="S", help="give up after S seconds"
    )
    parser.add_argument(
        "--interval", type=float, default=1.0, metavar="S", help="poll interval (default 1 s)"
    )
    add_common(parser)


def _print_event(args: argparse.Namespace, record: dict[str, Any], text: str) -> None:
    if args.json:
        emit({"event": record.pop("event"), "time": now_moment(), **record})
    else:
        print(text, flush=True)


def _event_record(kind: str, event: Any) -> dict[str, Any]:
    """The ``--json`` line of a chain event: its kind, subject fields and position."""
    record: dict[str, Any] = {"event": kind, "task": event.task}
    if kind == "status":
        record["status"] = event.status
    elif kind == "attempted":
        record["provider"] = event.provider
        record["suggested_payment"] = amount(event.suggested_payment)
    else:
        record["response"] = event.response
    record.update(
        block_number=event.block_number, tx_hash=event.transaction_hash, log_index=event.log_index
    )
    return record


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a new event loop. On Ctrl-C, cancel its tasks and return at once,
    without waiting for worker threads still blocked in a request (``asyncio.run`` would)."""
    loop = asyncio.new_event_loop()
    main = loop.create_task(coro)
    try:
        return loop.run_until_complete(main)
    except KeyboardInterrupt:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for job in pending:
            job.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=0.5))
        raise
    finally:
        loop.close()  # shuts the default executor down without waiting for its threads


async def _pump(source: AsyncIterator[Any], kind: str, queue: asyncio.Queue[Any]) -> None:
    async for event in source:
        await queue.put((kind, event))


async def _watch_loop(args: argparse.Namespace, task_address: str, start_block: int) -> str:
    from ogpu.events import watch_attempted, watch_response_submitted, watch_task_status_changed
    from ogpu.protocol import Task

    task = Task(task_address)
    stops = TERMINAL + (("RESPONDED",) if args.until == "responded" else ())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout
    queue: asyncio.Queue[Any] = asyncio.Queue()
    from ogpu.chain.context import carry

    reads = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ogpu-watch")
    interval = args.interval
    seen: dict[str, bool] = {}
    pumps = [
        asyncio.create_task(
            _pump(watch(task.address, from_block=start_block, poll_interval=interval), kind, queue)
        )
        for watch, kind in (
            (watch_task_status_changed, "status"),
            (watch_attempted, "attempted"),
            (watch_response_submitted, "response"),
        )
    ]

    def show(kind: str, event: Any) -> None:
        record = _event_record(kind, event)
        if kind == "status":
            seen[event.status.name] = True
            text = f"block {event.block_number}: status -> {event.status.name}"
        elif kind == "attempted":
            text = f"block {event.block_number}: attempted by provider {event.provider}"
        else:
            text = f"block {event.block_number}: response {event.response} submitted"
        _print_event(args, record, text)

    async def finish(status: str) -> str:
        # One poll hands every watcher its events at once, but each pump moves them to the
        # queue on its own turn: let them run, then print what they delivered, in chain order.
        pending: list[tuple[str, Any]] = []
        idle = 0
        while idle < 3:
            await asyncio.sleep(0)
            if queue.empty():
                idle += 1
                continue
            idle = 0
            while not queue.empty():
                pending.append(queue.get_nowait())
        for kind, event in sorted(pending, key=lambda p: (p[1].block_number, p[1].log_index)):
            show(kind, event)
        return status

    settle: float | None = None
    try:
        while True:
            if settle is None:
                status = (await loop.run_in_executor(reads, carry(task.get_status))).name or "?"
                if status in stops:
                    if status == "EXPIRED" or seen.get(status):
                        return await finish(status)
                    settle = loop.time() + 3 * interval + 1.0
            elif loop.time() >= settle or seen.get(status):
                return await finish(status)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise CommandError(
                    f"timed out after {args.timeout:g} s; task {task.address} is {status}",
                    kind="timeout",
                )
            try:
                kind, event = await asyncio.wait_for(queue.get(), min(remaining, interval))
            except asyncio.TimeoutError:
                continue
            show(kind, event)
    finally:
        reads.shutdown(wait=False, cancel_futures=True)
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


def watch(args: argparse.Namespace) -> int:
    from ogpu.chain import rpc
    from ogpu.protocol import Task

    for name in ("timeout", "interval"):
        value = getattr(args, name)
        if not 0 < value < 10**7:
            raise CommandError(f"--{name} must be a positive number of seconds", kind="input")
    connect(args)
    start_block = read_chain("eth_blockNumber", [], rpc.to_int)
    task = Task.load(args.address)
    snap = task.snapshot()
    _print_event(
        args,
        {
            "event": "current",
            "task": task.address,
            "status": snap.status,
            "block_number": snap.block_number,
        },
        f"task {task.address}: {snap.status.name} (block {snap.block_number})"
        + ("" if snap.status.name in TERMINAL else "; watching..."),
    )
    status = snap.status.name or "?"
    if status not in TERMINAL:
        status = run_async(_watch_loop(args, task.address, start_block))
    final = task.snapshot()
    confirmed = task.get_confirmed_response()
    _print_event(
        args,
        {
            "event": "final",
            "task": task.address,
            "status": status,
            "winning_provider": final.winning_provider,
            "confirmed_response": confirmed.address if confirmed else None,
        },
        f"task {task.address}: {status}"
        + (f", confirmed response {confirmed.address}" if confirmed else ""),
    )
    return 0
