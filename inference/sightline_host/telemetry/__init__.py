"""GPU telemetry: NVML figures, system memory, and which loaded model holds what.

:func:`open_source` picks the source the host samples: ``SIGHTLINE_TELEMETRY_REPLAY=/path.jsonl`` plays a
recording; else NVML when it starts (an NVIDIA driver and at least one GPU); else system memory only, with
the reason there are no GPU figures.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sightline_host.telemetry.accounting import ACCOUNTING, ModelAccounting
from sightline_host.telemetry.nvml_source import NvmlSource, NvmlUnavailable
from sightline_host.telemetry.replay import ReplayError, ReplaySource
from sightline_host.telemetry.snapshot import (
    GpuProcess,
    GpuTelemetry,
    ModelMemory,
    SystemMemory,
    TelemetrySnapshot,
    TelemetrySource,
    TelemetrySourceKind,
)
from sightline_host.telemetry.system_source import SystemSource

REPLAY_ENV = "SIGHTLINE_TELEMETRY_REPLAY"

__all__ = [
    "ACCOUNTING",
    "REPLAY_ENV",
    "GpuProcess",
    "GpuTelemetry",
    "ModelAccounting",
    "ModelMemory",
    "NvmlSource",
    "NvmlUnavailable",
    "ReplayError",
    "ReplaySource",
    "SystemMemory",
    "SystemSource",
    "TelemetrySnapshot",
    "TelemetrySource",
    "TelemetrySourceKind",
    "open_source",
]


def open_source(env: Mapping[str, str] | None = None, accounting: ModelAccounting = ACCOUNTING) -> TelemetrySource:
    """Replay if ``SIGHTLINE_TELEMETRY_REPLAY`` is set (a bad file raises :class:`ReplayError`), else NVML,
    else system memory with the reason NVML is not there."""
    environ = os.environ if env is None else env
    replay = environ.get(REPLAY_ENV)
    if replay:
        return ReplaySource(Path(replay), accounting)
    try:
        return NvmlSource(accounting)
    except NvmlUnavailable as exc:
        return SystemSource(str(exc), accounting)
