"""Record NVML as JSON lines, for replay on machines without a GPU.

    python -m sightline_host.telemetry.record --seconds 30 --out gpu-stream.jsonl [--interval-ms 1000]

Each line is one :func:`~sightline_host.telemetry.nvml_source.read_raw` record: what every NVML call returned,
with NVML's own field names. Play it back with ``SIGHTLINE_TELEMETRY_REPLAY=gpu-stream.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sightline_host.telemetry.nvml_source import NvmlSource, NvmlUnavailable


def _positive(kind: type[float] | type[int]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sightline_host.telemetry.record", description="Record NVML as JSON lines, for replay."
    )
    parser.add_argument("--seconds", type=_positive(float), required=True, help="how long to record")
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines file to write")
    parser.add_argument("--interval-ms", type=_positive(int), default=1000, help="time between samples (default 1000)")
    args = parser.parse_args(argv)
    try:
        source = NvmlSource()
    except NvmlUnavailable as exc:
        print(f"record: {exc}; nothing recorded", file=sys.stderr)
        return 2
    count = 0
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as out:
            end = time.monotonic() + args.seconds
            while True:
                started = time.monotonic()
                out.write(json.dumps(source.read_raw()) + "\n")
                out.flush()
                count += 1
                wait = args.interval_ms / 1000 - (time.monotonic() - started)
                if started + max(wait, 0) >= end:
                    break
                time.sleep(max(wait, 0))
    finally:
        source.close()
    print(f"record: wrote {count} samples to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
