"""Every revert reason in the contracts is asserted by a contract test (statically checked)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONTRACTS = HERE.parents[1] / "contracts" / "src"

# The reasons PROTOCOL.md fixes (the SDK maps them to typed errors).
PROTOCOL_REASONS = {
    "NotOwner",
    "NotMaster",
    "NotProvider",
    "NotAuthorized",
    "Expired",
    "AlreadyConfirmed",
    "AlreadyFinalized",
    "NotCancelable",
    "InsufficientBalance",
    "InsufficientLockup",
    "UnbondingNotElapsed",
    "NotEligible",
    "SourceInactive",
    "PaymentTooLow",
    "ExpiryTooLong",
    "NotRegistered",
    "AlreadyAttempted",
    "NotAttempted",
    "AlreadySubmitted",
    "EnvironmentNotSupported",
}
# Guards no externally owned account can trip: the Controller escrows each new
# task once, and only a contract that refuses coin can make a payout fail.
UNREACHABLE_FROM_ACCOUNTS = {"AlreadyEscrowed", "TransferFailed"}

REASON = re.compile(r'(?:require\s*\((?:[^;]|\n)*?,\s*|revert\s*\(\s*)"([A-Za-z]+)"\s*\)')


def contract_reasons() -> set[str]:
    found: set[str] = set()
    for path in CONTRACTS.rglob("*.sol"):
        found.update(REASON.findall(path.read_text()))
    return found


def asserted_reasons() -> set[str]:
    found: set[str] = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "reverts"
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
            ):
                found.add(node.args[2].value)
    return found


def test_reason_scan_finds_requires_and_reverts() -> None:
    sample = 'require(a, "One");\nrequire(\n  x && y,\n  "Two"\n);\nrevert("Three");'
    assert REASON.findall(sample) == ["One", "Two", "Three"]


def test_protocol_reasons_are_used_by_the_contracts() -> None:
    assert contract_reasons() >= PROTOCOL_REASONS


def test_every_reachable_reason_is_asserted() -> None:
    reasons = contract_reasons()
    asserted = asserted_reasons()
    assert asserted <= reasons, f"tests expect unknown reasons: {asserted - reasons}"
    assert reasons - UNREACHABLE_FROM_ACCOUNTS == asserted
