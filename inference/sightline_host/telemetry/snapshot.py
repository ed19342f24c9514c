"""What one telemetry sample says: per GPU figures, system memory, and which loaded model holds what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

SourceKind = Literal["nvml", "system", "replay"]


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    used_bytes: int | None  # None where the driver does not say (NVML_VALUE_NOT_AVAILABLE)


@dataclass(frozen=True)
class GpuSample:
    index: int
    name: str
    uuid: str
    memory_used_bytes: int
    memory_total_bytes: int
    # None: this GPU or driver does not report the figure (NVML "Not Supported").
    utilization_percent: float | None
    temperature_c: float | None
    power_w: float | None
    power_limit_w: float | None
    sm_clock_mhz: float | None
    mem_clock_mhz: float | None
    processes: tuple[GpuProcess, ...]


@dataclass(frozen=True)
class SystemMemory:
    used_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class ModelHolding:
    """A loaded model's memory as its loader reported it (see :mod:`sightline_host.telemetry.accounting`)."""

    role: str
    model_id: str
    device: str  # "cuda:0", "cpu", ...
    bytes: int


@dataclass(frozen=True)
class TelemetrySnapshot:
    source: SourceKind
    time_ms: float  # Unix time of the sample, in milliseconds
    gpus: tuple[GpuSample, ...]
    system: SystemMemory
    models: tuple[ModelHolding, ...]
    reason: str | None = None  # why there are no GPU figures (no NVIDIA GPU, no driver, ...)

    def to_message(self, request_id: str) -> dict[str, Any]:
        """The protocol's ``telemetry`` message for the subscription ``request_id``."""
        message: dict[str, Any] = {
            "type": "telemetry",
            "id": request_id,
            "source": self.source,
            "time_ms": self.time_ms,
            "gpus": [
                {
                    "index": g.index,
                    "name": g.name,
                    "uuid": g.uuid,
                    "memory_used_bytes": g.memory_used_bytes,
                    "memory_total_bytes": g.memory_total_bytes,
                    "utilization_percent": g.utilization_percent,
                    "temperature_c": g.temperature_c,
                    "power_w": g.power_w,
                    "power_limit_w": g.power_limit_w,
                    "sm_clock_mhz": g.sm_clock_mhz,
                    "mem_clock_mhz": g.mem_clock_mhz,
                    "processes": [{"pid": p.pid, "used_bytes": p.used_bytes} for p in g.processes],
                }
                for g in self.gpus
            ],
            "system": {"memory_used_bytes": self.system.used_bytes, "memory_total_bytes": self.system.total_bytes},
            "models": [
                {"role": m.role, "model_id": m.model_id, "device": m.device, "bytes": m.bytes} for m in self.models
            ],
        }
        if self.reason is not None:
            message["reason"] = self.reason
        return message


class TelemetrySource(Protocol):
    """Anything that can be sampled: NVML, system memory only, or a recorded NVML stream."""

    kind: SourceKind

    def sample(self) -> TelemetrySnapshot: ...

    def close(self) -> None: ...
