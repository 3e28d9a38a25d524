"""Generate docs/RELIABILITY.md from a run of the reliability suite.

Usage (from the repository root)::

    python -m tests.reliability.report            # run, then write docs/RELIABILITY.md
    python -m tests.reliability.report --check    # run, then fail if the file is stale

Runs ``tests/reliability`` plus the cross-referenced hardening tests of
tests/ipfs and tests/service in this process, with a collector plugin. A table
row comes only from a test that passed: reliability tests record their rows with
the ``row`` fixture (pytest ``user_properties``), cross-referenced tests get the
description below. Strict xfails (known bugs) are listed apart, never as rows.
Nothing is written unless every selected test passed (or xfailed as declared).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "RELIABILITY.md"
ROW_KEY = "reliability_row"
SUITE = "tests/reliability"

# Hardening tests owned by other folders: (test, what is injected, outcome).
CROSS_REFERENCES: dict[str, tuple[str, str, str]] = {
    "tests/ipfs/test_fetch.py::test_body_over_cap_is_cut_while_streaming": (
        "fetch",
        "body over max_bytes, with and without Content-Length",
        "IPFSFetchError; the download is cut at the cap",
    ),
    "tests/ipfs/test_fetch.py::test_exact_cap_is_accepted": (
        "fetch",
        "body of exactly max_bytes",
        "accepted",
    ),
    "tests/ipfs/test_fetch.py::test_gzip_bomb_is_capped_on_decoded_size": (
        "fetch",
        "gzip bomb",
        "IPFSFetchError; the cap applies to the decoded size",
    ),
    "tests/ipfs/test_fetch.py::test_redirect_loop_is_cut_after_limit": (
        "fetch",
        "redirect loop",
        "IPFSFetchError after the redirect limit",
    ),
    "tests/ipfs/test_fetch.py::test_custom_redirect_limit": (
        "fetch",
        "redirect chain longer than a custom limit",
        "IPFSFetchError at the custom limit",
    ),
    "tests/ipfs/test_fetch.py::test_redirect_to_other_scheme_is_refused": (
        "fetch",
        "redirect to a non-http(s) scheme",
        "IPFSFetchError; not followed",
    ),
    "tests/ipfs/test_fetch.py::test_bad_urls_fail_before_any_io": (
        "fetch",
        "file:, gopher:, ftp:, data:, javascript:, scheme-less and malformed ipfs:// URLs",
        "InvalidInputError before any I/O",
    ),
    "tests/ipfs/test_fetch.py::test_slow_server_times_out_and_is_retried": (
        "fetch",
        "server slower than the read timeout",
        "timeout, retried, then IPFSFetchError",
    ),
    "tests/ipfs/test_fetch.py::test_total_time_budget_bounds_attempts": (
        "fetch",
        "slow server with a total time budget",
        "IPFSFetchError within the budget",
    ),
    "tests/ipfs/test_fetch.py::test_json_that_is_not_an_object": (
        "fetch",
        "JSON array, string, number, null, true",
        "IPFSFetchError 'expected an object'",
    ),
    "tests/ipfs/test_fetch.py::test_invalid_json": (
        "fetch",
        "invalid JSON, empty body, invalid UTF-8, 100 000 open brackets",
        "IPFSFetchError 'valid JSON'",
    ),
    "tests/ipfs/test_fetch.py::test_deep_nesting_is_refused_without_crashing": (
        "fetch",
        "300 000 nested arrays",
        "IPFSFetchError 'nested deeper than'; no crash",
    ),
    "tests/service/test_server.py::test_body_size_cap_413": (
        "service",
        "body over max_body_bytes: declared, and chunked without Content-Length",
        "413; handler not run",
    ),
    "tests/service/test_server.py::test_bad_input_is_422_with_pydantic_errors_and_nothing_runs": (
        "service",
        "truncated JSON, empty body, missing/ill-typed fields, bad task address",
        "422 with pydantic errors; handler not run",
    ),
    "tests/service/test_queue.py::test_tasks_past_the_in_flight_limit_queue_then_429": (
        "service",
        "more tasks than max_in_flight, then more than the queue holds",
        "queued (202, one callback each); 429 with Retry-After past the queue",
    ),
    "tests/service/test_accept_path.py::test_lone_surrogates_in_the_body_get_a_422_not_a_reset": (
        "service",
        "lone surrogate escapes in the JSON body, as a value and as a key",
        "422 with pydantic errors (U+FFFD in the echoed input); handler not run",
    ),
    "tests/service/test_queue.py::test_queue_byte_budget_bounds_waiting_bodies": (
        "service",
        "queued request bodies over queue_max_bytes",
        "429 with Retry-After; handler not run",
    ),
}

SECTIONS = (
    (
        "faults",
        "Faults injected under `ogpu.client.publish_task`",
        "Every request of the SDK passes `tests/helpers/proxy.py`, a loopback "
        "JSON-RPC proxy in front of the devnet's HTTP server. Each row publishes one task "
        "and then counts tasks on chain twice (`Source.get_task_count()` and `TaskPublished` "
        "logs read from the node). The promise: exactly one task, or a typed error; a "
        "`TxMayHaveLandedError` (`ReceiptTimeoutError` included) carries `tx_hash` and the "
        "chain is checked against it; any other error means nothing landed. Never two tasks. "
        "Client HTTP timeout in these tests: 1 s.",
    ),
    (
        "uncertain",
        "A send is rejected only when the node proves it",
        "`tests/reliability/test_uncertain_sends.py`, through the same proxy, on "
        "`publish_task` (`TxExecutor`) and per task on `publish_tasks` (rows `batch-…`, "
        "3 tasks). Only a known pre-acceptance rejection (nonce, fee, funds, intrinsic gas, "
        "invalid sender, block gas limit, 'already known' naming another hash) means 'not "
        "sent'; any other answer after the signed bytes left (an error code, a bare string, "
        "a malformed result, no answer) is settled by the hash (receipt, "
        "`eth_getTransactionByHash`, the account's nonce) and only the same signed bytes are "
        "ever sent again. The promise: exactly one task per call (per task), or a typed "
        "error; a `TxMayHaveLandedError` carries `tx_hash` and is checked against the chain; "
        "never two tasks. One classifier (`ogpu.protocol._tx.outcome`) serves both paths.",
    ),
    (
        "malformed writes",
        "Malformed answers on the write paths",
        "`tests/reliability/test_uncertain_sends.py`: the proxy forwards and then replaces a "
        "result (or merges fields into it). Before the send: `RPCError`, nothing sent. After "
        "it: an error carrying `tx_hash`, checked against the chain. Never a raw "
        "`ValueError`/`KeyError`/`TypeError`.",
    ),
    (
        "concurrency",
        "Several processes, one key",
        'Each process has its own nonce cache. A stale cache gets "nonce too low"; the '
        "executor checks its own hash is unknown, re-reads the pending nonce and signs again "
        "(up to `max_retries`). If collisions outlast the retries it raises `NonceError` "
        "(nothing landed): call `ogpu.chain.fix_nonce()` (one RPC) and send again. A process "
        "that knows another one used the key calls `fix_nonce()` first and avoids the "
        "rejected broadcast.",
    ),
    (
        "bad input",
        "Bad input on every public write",
        "Module functions (`nexus`, `controller`, `terminal`, `vault`), instance write "
        "methods (`Source`, `Task`, `Response`, `Provider`, `Master`), `TxExecutor`, client "
        "and agent workflows. One bad value at a time, the other arguments valid; counted at "
        "the proxy. `0 requests` means the refusal came before any I/O.",
    ),
    (
        "secrets",
        "Secrets",
        "`tests/reliability/secrets_guard.py` fails any test during which a private key in "
        "use (every devnet key, the role variables, keys a test registers) appears in a log "
        "record (DEBUG and up), an SDK exception (caught or not: message, repr, attributes), "
        "the exception ending a test, or a warning.",
    ),
    (
        "service",
        "Source service and the SDK's JSON servers",
        "A real uvicorn server on loopback (`ogpu.service.testing.serve_in_thread`); the "
        "nested-JSON rows run each server in its own process after `import eth_account`.",
    ),
    (
        "inputs",
        "Inputs the service side can never take",
        "`tests/reliability/test_input_rules.py`. One rule for `function_name` "
        "(`ogpu._routing`: an ASCII identifier of at most 128 characters) in the client, the "
        "provider runtime and the service; JSON values every consumer accepts; http(s)/ipfs "
        "URLs only in source metadata; key files private to their owner. Client cases are "
        "counted at the wire: requests at the JSON-RPC proxy, writes into the content store "
        "(a counting `ContentStore`), and `eth_sendRawTransaction`.",
    ),
    (
        "manifest",
        "Tasks a source's manifest refuses",
        "A source published with its manifest (`ogpu.manifest`); `publish_task` and "
        "`publish_tasks` check the function and the data before anything is pinned or paid. "
        "The on-chain checks still read the source (which also yields its metadata URL).",
    ),
    ("fetch", "Fetch hardening (`ogpu.ipfs.fetch_ipfs_json`)", "Tests in tests/ipfs."),
    (
        "bounded",
        "Every bounded call within its timeout + 1 s",
        "`tests/reliability/test_bounded_calls.py`. Each call runs with a timeout of 1.5 s "
        "against real loopback servers (`hostile.py`) that hang, never read, drip the status "
        "line, headers, a fixed-length or a chunked body one byte per 0.2 s, complete too "
        "late, redirect slowly forever, or never accept the connection; plus slow DNS, "
        "redirect chains and retries. The outcome column gives the measured time.",
    ),
    (
        "bounded writes",
        "Every write with a timeout ends within it + 1 s",
        "`tests/reliability/test_bounded_writes.py`: `publish_task(timeout=4)`, "
        "`publish_tasks(timeout=4)` (rows `batch-…`) and `vault.deposit` inside "
        "`Budget.after(4).scope()` (rows `deposit-…`, a `TxExecutor` write), through the "
        "proxy with the SDK's default 30 s HTTP timeout, so only the call's own budget can "
        "bound them. Every HTTP timeout, retry, receipt poll and settling lookup is cut to "
        "what the budget has left. An error about a sent transaction carries `tx_hash` and "
        "is checked against the chain; a read cut short before the broadcast is `RPCError` "
        "or `PublishTimeoutError` (nothing sent).",
    ),
    (
        "rpc answers",
        "The JSON-RPC transport: malformed answers and failures",
        "`tests/reliability/test_rpc_transport.py`, against real loopback nodes that answer "
        "what the test says (`scripted.py`). Every malformed answer is a typed error "
        "(`MalformedAnswer`/`TransportError`, `RPCError` at the SDK surface); connection "
        "failures are one line under 160 characters naming the redacted URL and the cause.",
    ),
    (
        "ssrf",
        "A provider fetches URLs that strangers chose (SSRF)",
        "`tests/reliability/test_ssrf.py`. Victim servers listen on 127.0.0.1 and ::1 and "
        "count connections; every refusal is checked at the victim too. Names resolve "
        "through `/etc/hosts` or a resolver the test controls.",
    ),
    (
        "cid",
        "Content checked against its CID",
        "`tests/reliability/test_cid.py`: the devnet store and trustless gateways built for "
        "the test (raw CIDs, dag-pb CIDv0/CIDv1, DAGs walked block by block).",
    ),
    (
        "provider bounds",
        "The provider runtime's work per task",
        "`tests/reliability/test_provider_bounds.py`: a real runtime, service and devnet.",
    ),
    (
        "callbacks",
        "Task ids, callback deadlines and the provider's callback server",
        "`tests/reliability/test_callbacks.py`: a real service (uvicorn) and callback "
        "receivers that hang or drip; the provider's `CallbackServer` against idle, "
        "dripping and forging clients.",
    ),
    (
        "watchers",
        "Watchers never lose or repeat an event",
        "`tests/reliability/test_watchers.py`. The chain (eth-tester) is read through "
        "`chainview.py`, a loopback JSON-RPC proxy answering as replicas some blocks behind "
        "(per request, alternating, or for `eth_getLogs` alone: clamped, `[]` or an error past "
        "their head). Rewinds are real: the chain reverts to a snapshot and different events "
        "are mined in place of the dropped blocks. Each watcher's output is a ledger (yielded "
        "events in, `on_removed` notices out) compared with the chain's logs read directly.",
    ),
    (
        "devnet concurrency",
        "The devnet's HTTP servers under a burst",
        "`tests/reliability/test_devnet_concurrency.py`: simultaneous connections (a "
        "barrier), one request each; every answer read to the end.",
    ),
    (
        "properties",
        "Protocol properties",
        "A hypothesis `RuleBasedStateMachine` on the in-process devnet.",
    ),
)


@dataclass(eq=False)
class Collector:
    """pytest plugin: rows of passing tests, failures and strict xfails."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)
    failed: list[str] = field(default_factory=list)
    xfailed: dict[str, str] = field(default_factory=dict)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        if report.failed:
            self.failed.append(f"{nodeid} ({report.when})")
            self.rows.pop(nodeid, None)
            self.passed.discard(nodeid)
            return
        if hasattr(report, "wasxfail"):
            if report.when == "call" or report.skipped:
                self.xfailed[nodeid] = str(report.wasxfail)
            return
        if report.when == "call" and report.passed:
            self.passed.add(nodeid)
            found = [json.loads(str(v)) for k, v in report.user_properties if k == ROW_KEY]
            if found:
                self.rows[nodeid] = found


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], lines: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_cell(c) for c in line) + " |" for line in lines]
    return out


def _test_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1].split("[", 1)[0]


def _bad_input_lines(rows: list[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
    """One line per (parameter, inputs, outcome), listing every write it was tried on."""
    per_write: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for nodeid, r in rows:
        per_write.setdefault((r["target"], r["parameter"], r["outcome"]), []).append(
            (r["input"], nodeid)
        )
    merged: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for (target, parameter, outcome), cases in per_write.items():
        inputs = "; ".join(dict.fromkeys(i for i, _ in cases))
        targets, nodeids = merged.setdefault((parameter, inputs, outcome), ([], []))
        targets.append(target)
        nodeids.extend(n for _, n in cases)
    lines = []
    for (parameter, inputs, outcome), (targets, nodeids) in merged.items():
        tests = sorted({_test_name(n) for n in nodeids})
        writes = ", ".join(f"`{t}`" for t in targets)
        lines.append([parameter, inputs, outcome, writes, f"{', '.join(tests)} ({len(nodeids)})"])
    return lines


def _summary(by_area: dict[str, list[tuple[str, dict[str, Any]]]]) -> list[str]:
    """Cases tried and survived per class (a row is written only for a passing test)."""
    lines = []
    for area, title, _ in SECTIONS:
        entries = by_area.get(area, [])
        if entries:
            tests = len({_test_name(nodeid) for nodeid, _ in entries})
            lines.append([title, len(entries), len(entries), tests])
    return [
        "## Summary",
        "",
        *_table(["class", "cases tried", "survived", "tests"], lines),
        "",
    ]


def render(collector: Collector) -> str:
    """The markdown document for a finished run. No I/O."""
    by_area: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for nodeid, found in collector.rows.items():
        for r in found:
            by_area.setdefault(r["area"], []).append((nodeid, r))
    for nodeid, (area, injected, outcome) in CROSS_REFERENCES.items():
        cases = [n for n in collector.passed if n == nodeid or n.startswith(nodeid + "[")]
        if cases:
            row = {
                "case": _test_name(nodeid).removeprefix("test_").replace("_", " "),
                "injected": injected,
                "outcome": outcome,
                "xref": len(cases),
            }
            by_area.setdefault(area, []).append((nodeid, row))
    rows_total = sum(len(v) for v in by_area.values())
    out = [
        "# Reliability and security",
        "",
        "<!-- Generated by `python -m tests.reliability.report` from a test run; do not edit. -->",
        "",
        "Every row below is a test that passed in the run that generated this page "
        f"({len(collector.passed)} passing tests, {rows_total} recorded outcomes). "
        "Regenerate with `python -m tests.reliability.report`; "
        "`--check` fails when this file is stale.",
        "",
    ]
    out += _summary(by_area)
    for area, title, intro in SECTIONS:
        entries = by_area.get(area, [])
        if not entries:
            continue
        out += [f"## {title}", "", intro, ""]
        if area == "bad input":
            headers = ["parameter", "inputs tried", "outcome", "writes", "tests (cases)"]
            out += _table(headers, _bad_input_lines(entries))
        else:
            lines = []
            for nodeid, r in entries:
                xref = "xref" in r
                test = f"`{nodeid}` ({r['xref']})" if xref else f"`{_test_name(nodeid)}`"
                lines.append([r.get("case", ""), r["injected"], r["outcome"], test])
            out += _table(["case", "injected", "outcome", "test"], lines)
        out.append("")
    if collector.xfailed:
        out += [
            "## Open bugs (strict xfail: not rows above)",
            "",
            "These tests state the wanted behaviour and fail today; they are marked "
            "`xfail(strict=True)`, so the suite turns red when a fix lands and the mark "
            "must go.",
            "",
        ]
        reasons: dict[str, list[str]] = {}
        for nodeid, reason in sorted(collector.xfailed.items()):
            reasons.setdefault(reason.removeprefix("reason: "), []).append(nodeid)
        out += _table(
            ["bug", "tests"],
            [[reason, ", ".join(f"`{n}`" for n in ids)] for reason, ids in reasons.items()],
        )
        out.append("")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args, extra = parser.parse_known_args(argv)
    collector = Collector()
    selection = [SUITE, *CROSS_REFERENCES]
    code = pytest.main(
        [*selection, "-q", "-p", "no:cacheprovider", "-o", "console_output_style=classic", *extra],
        plugins=[collector],
    )
    if code != 0 or collector.failed:
        print(f"not writing {args.output}: the run failed", *collector.failed, sep="\n  ")
        return int(code) or 1
    document = render(collector)
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != document:
            print(f"{args.output} is stale; run python -m tests.reliability.report")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(document)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
