"""What one telemetry sample says: per GPU figures, system memory, and which loaded model holds what.

The figures are the protocol's own types, generated from src-shared/protocol/telemetry.ts into
:mod:`sightline_host.protocol.types` (``GpuTelemetry``, ``GpuProcess``, ``SystemMemory``, ``ModelMemory``):
a snapshot is a ``telemetry`` message without its ``type`` and ``id``, so nothing here restates their fields.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Protocol

from sightline_host.protocol.types import (
    GpuProcess,
    GpuTelemetry,
    ModelMemory,
    SystemMemory,
    Telemetry,
    TelemetrySourceKind,
)

__all__ = [
    "GpuProcess",
    "GpuTelemetry",
    "ModelMemory",
    "SystemMemory",
    "TelemetrySnapshot",
    "TelemetrySource",
    "TelemetrySourceKind",
]


@dataclass(frozen=True)
class TelemetrySnapshot:
    source: TelemetrySourceKind
    time_ms: float  # Unix time of the sample, in milliseconds
    # A null figure of a GPU is one this GPU or driver does not report (NVML "Not Supported"); a process's
    # `used_bytes` is null where the driver does not say (NVML_VALUE_NOT_AVAILABLE).
    gpus: tuple[GpuTelemetry, ...]
    system: SystemMemory
    # What each loaded model holds, as its loader reported it (see :mod:`sightline_host.telemetry.accounting`).
    models: tuple[ModelMemory, ...]
    reason: str | None = None  # why there are no GPU figures (no NVIDIA GPU, no driver, ...)

    def to_message(self, request_id: str) -> Telemetry:
        """The protocol's ``telemetry`` message for the subscription ``request_id`` (a copy: the snapshot's
        figures are not shared with whoever sends or changes the message)."""
        message: Telemetry = {
            "type": "telemetry",
            "id": request_id,
            "source": self.source,
            "time_ms": self.time_ms,
            "gpus": copy.deepcopy(list(self.gpus)),
            "system": copy.deepcopy(self.system),
            "models": copy.deepcopy(list(self.models)),
        }
        if self.reason is not None:
            message["reason"] = self.reason
        return message


class TelemetrySource(Protocol):
    """Anything that can be sampled: NVML, system memory only, or a recorded NVML stream."""

    kind: TelemetrySourceKind

    def sample(self) -> TelemetrySnapshot: ...

    def close(self) -> None: ...
