"""Plays a recorded NVML stream (JSON lines from ``python -m sightline_host.telemetry.record``).

Each :meth:`ReplaySource.sample` returns the next record, converted by the same code a live GPU's samples go
through, stamped with the current time; at the end it starts again from the first record. Models come from
the live accounting registry, plus those a record lists itself (its optional ``models``: what the recording
process's own accounting held then; see :func:`~sightline_host.telemetry.nvml_source.snapshot_from_raw`).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from sightline_host.protocol.types import TelemetrySourceKind
from sightline_host.telemetry.accounting import ACCOUNTING, ModelAccounting
from sightline_host.telemetry.nvml_source import RawRecordError, snapshot_from_raw
from sightline_host.telemetry.snapshot import TelemetrySnapshot


class ReplayError(ValueError):
    pass


def load_records(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ReplayError(f"cannot read the telemetry recording {path}: {exc.strerror or exc}") from exc
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise ReplayError(f"{where}: expected a JSON object")
        try:
            snapshot_from_raw(record, "replay", ModelAccounting(), 0.0, where)  # check it converts
        except RawRecordError as exc:
            raise ReplayError(str(exc)) from exc
        records.append(record)
    if not records:
        raise ReplayError(f"{path}: no records")
    return records


class ReplaySource:
    kind: TelemetrySourceKind = "replay"

    def __init__(self, path: Path, accounting: ModelAccounting = ACCOUNTING) -> None:
        self.path = path
        self._records = load_records(path)
        self._accounting = accounting
        self._next = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def sample(self) -> TelemetrySnapshot:
        with self._lock:
            record = self._records[self._next]
            where = f"{self.path}: record {self._next + 1}"
            self._next = (self._next + 1) % len(self._records)
        return snapshot_from_raw(record, "replay", self._accounting, time.time() * 1000, where)

    def close(self) -> None:
        return None
