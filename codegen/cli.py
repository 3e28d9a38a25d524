"""`python -m codegen [--check] [--abis DIR] [--out DIR]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import CodegenError
from .loader import load_model
from .protocol import load_protocol
from .render import PACKAGE, abi_files, diff_files, format_files, render, write_files

ROOT = Path(__file__).resolve().parent.parent


def generate(abis_dir: Path) -> dict[str, str]:
    """Output files (path under ogpu_bindings/ -> text): formatted modules plus the ABI JSON.

    No network; runs ruff.
    """
    model = load_model(abis_dir)
    protocol = load_protocol(abis_dir, model)
    return {**format_files(render(model, protocol)), **abi_files(abis_dir, model)}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 out of date, 2 bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m codegen",
        description="Generate the ogpu_bindings package from the ABIs and data files in abis/.",
    )
    parser.add_argument("--abis", type=Path, default=ROOT / "abis", help="input folder")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "generated", help=f"output folder (holds {PACKAGE}/)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate in memory and exit 1 with a unified diff if the output folder differs",
    )
    args = parser.parse_args(argv)
    try:
        files = generate(args.abis)
    except CodegenError as exc:
        print(f"codegen: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        diff = diff_files(files, args.out)
        if diff:
            sys.stdout.write(diff)
            print(
                f"codegen: {args.out / PACKAGE} is out of date; run `make generate`.",
                file=sys.stderr,
            )
            return 1
        print(f"codegen: {args.out / PACKAGE} is up to date ({len(files)} files).")
        return 0
    touched = write_files(files, args.out)
    print(f"codegen: wrote {len(files)} files to {args.out / PACKAGE} ({len(touched)} changed).")
    return 0
