"""GPU telemetry from NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``).

Sampling happens in two steps, so that a recorded stream goes through exactly the code a live GPU does:
:func:`read_raw` calls NVML and keeps what each call returned, keyed by the NVML function's name and with
NVML's own field names (``nvmlDeviceGetMemoryInfo: {total, free, used}``, processes with ``pid`` and
``usedGpuMemory``, power in milliwatts, ...); a call that fails (``Not Supported`` on some boards) is kept
as ``{"error": ..., "code": ...}``. :func:`snapshot_from_raw` turns such a record into a
:class:`TelemetrySnapshot`. ``python -m sightline_host.telemetry.record`` writes these records as JSON
lines; :class:`~sightline_host.telemetry.replay.ReplaySource` plays them back.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from sightline_host.protocol.types import GpuProcess, GpuTelemetry, ModelMemory, SystemMemory, TelemetrySourceKind
from sightline_host.telemetry.accounting import ACCOUNTING, ModelAccounting
from sightline_host.telemetry.snapshot import TelemetrySnapshot
from sightline_host.telemetry.system_source import system_memory

RAW_FORMAT = "sightline-nvml/1"


class NvmlUnavailable(Exception):
    """NVML cannot be used here; the message says why in words a user understands."""


def _load_pynvml() -> Any:
    try:
        return importlib.import_module("pynvml")
    except ImportError as exc:  # pragma: no cover - nvidia-ml-py is a dependency of the host
        raise NvmlUnavailable(f"nvidia-ml-py is not installed ({exc})") from exc


def _explain(nvml: Any, exc: Exception) -> str:
    code = getattr(exc, "value", None)
    if code == getattr(nvml, "NVML_ERROR_LIBRARY_NOT_FOUND", -1):
        return "no NVIDIA GPU driver: the NVML library (libnvidia-ml) was not found"
    if code == getattr(nvml, "NVML_ERROR_DRIVER_NOT_LOADED", -1):
        return "no NVIDIA GPU: the NVIDIA driver is not loaded"
    if code == getattr(nvml, "NVML_ERROR_NO_PERMISSION", -1):
        return "NVML refused access to the GPUs (no permission)"
    return f"NVML could not start: {exc}"


def _plain(value: Any) -> Any:
    """NVML's return values as JSON: ctypes structures and pynvml's friendly objects become dicts."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    fields = getattr(value, "_fields_", None)
    if fields is not None:
        return {name: _plain(getattr(value, name)) for name, *_ in fields}
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def _call(nvml: Any, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return _plain(fn(*args))
    except nvml.NVMLError as exc:
        return {"error": str(exc), "code": getattr(exc, "value", None)}


def read_raw(nvml: Any) -> dict[str, Any]:
    """One record of what NVML says now, for every GPU (see the module doc for its shape)."""
    count = nvml.nvmlDeviceGetCount()
    devices = []
    for i in range(count):
        h = nvml.nvmlDeviceGetHandleByIndex(i)
        devices.append(
            {
                "index": i,
                "nvmlDeviceGetName": _call(nvml, nvml.nvmlDeviceGetName, h),
                "nvmlDeviceGetUUID": _call(nvml, nvml.nvmlDeviceGetUUID, h),
                "nvmlDeviceGetMemoryInfo": _call(nvml, nvml.nvmlDeviceGetMemoryInfo, h),
                "nvmlDeviceGetUtilizationRates": _call(nvml, nvml.nvmlDeviceGetUtilizationRates, h),
                "nvmlDeviceGetTemperature": _call(nvml, nvml.nvmlDeviceGetTemperature, h, nvml.NVML_TEMPERATURE_GPU),
                "nvmlDeviceGetPowerUsage": _call(nvml, nvml.nvmlDeviceGetPowerUsage, h),
                "nvmlDeviceGetEnforcedPowerLimit": _call(nvml, nvml.nvmlDeviceGetEnforcedPowerLimit, h),
                "nvmlDeviceGetClockInfo_SM": _call(nvml, nvml.nvmlDeviceGetClockInfo, h, nvml.NVML_CLOCK_SM),
                "nvmlDeviceGetClockInfo_MEM": _call(nvml, nvml.nvmlDeviceGetClockInfo, h, nvml.NVML_CLOCK_MEM),
                "nvmlDeviceGetComputeRunningProcesses": _call(nvml, nvml.nvmlDeviceGetComputeRunningProcesses, h),
                "nvmlDeviceGetGraphicsRunningProcesses": _call(nvml, nvml.nvmlDeviceGetGraphicsRunningProcesses, h),
            }
        )
    try:
        mem = system_memory()
        # The recording format's own names (recordings on disk use them), not the protocol's.
        system: dict[str, int] | None = {
            "used_bytes": mem["memory_used_bytes"],
            "total_bytes": mem["memory_total_bytes"],
        }
    except (OSError, ValueError):
        system = None
    return {
        "format": RAW_FORMAT,
        "time": time.time(),
        "nvmlSystemGetDriverVersion": _call(nvml, nvml.nvmlSystemGetDriverVersion),
        "nvmlSystemGetNVMLVersion": _call(nvml, nvml.nvmlSystemGetNVMLVersion),
        "nvmlSystemGetCudaDriverVersion": _call(nvml, nvml.nvmlSystemGetCudaDriverVersion),
        "system_memory": system,
        "devices": devices,
    }


def _ok(value: Any) -> bool:
    return not (isinstance(value, dict) and "error" in value) and value is not None


def _number(value: Any, scale: float = 1.0) -> float | None:
    if not _ok(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) * scale


class RawRecordError(ValueError):
    pass


def _field(device: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in device:
        raise RawRecordError(f"{where}: no {key}")
    return device[key]


def _processes(device: Mapping[str, Any]) -> list[GpuProcess]:
    by_pid: dict[int, int | None] = {}
    for key in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        procs = device.get(key)
        if not isinstance(procs, list):
            continue
        for p in procs:
            if not isinstance(p, dict) or not isinstance(p.get("pid"), int):
                continue
            used = p.get("usedGpuMemory")
            used_int = int(used) if isinstance(used, int) and not isinstance(used, bool) and used >= 0 else None
            pid = int(p["pid"])
            # A process in both lists (compute and graphics) reports the same memory: count it once.
            known = [v for v in (by_pid.get(pid), used_int) if v is not None]
            by_pid[pid] = max(known) if known else None
    return [GpuProcess(pid=pid, used_bytes=used) for pid, used in sorted(by_pid.items())]


def gpu_from_raw(device: Mapping[str, Any], where: str = "device") -> GpuTelemetry:
    index = _field(device, "index", where)
    memory = _field(device, "nvmlDeviceGetMemoryInfo", where)
    if not isinstance(index, int) or not _ok(memory) or not isinstance(memory, dict):
        raise RawRecordError(f"{where}: no index or memory figures ({memory!r})")
    if not isinstance(memory.get("total"), int) or not isinstance(memory.get("used"), int):
        raise RawRecordError(f"{where}: nvmlDeviceGetMemoryInfo lacks total/used")
    util = device.get("nvmlDeviceGetUtilizationRates")
    name = device.get("nvmlDeviceGetName")
    uuid = device.get("nvmlDeviceGetUUID")
    return GpuTelemetry(
        index=index,
        name=name if isinstance(name, str) else f"GPU {index}",
        uuid=uuid if isinstance(uuid, str) else "",
        memory_used_bytes=int(memory["used"]),
        memory_total_bytes=int(memory["total"]),
        utilization_percent=_number(util.get("gpu")) if isinstance(util, dict) and _ok(util) else None,
        temperature_c=_number(device.get("nvmlDeviceGetTemperature")),
        power_w=_number(device.get("nvmlDeviceGetPowerUsage"), 1e-3),
        power_limit_w=_number(device.get("nvmlDeviceGetEnforcedPowerLimit"), 1e-3),
        sm_clock_mhz=_number(device.get("nvmlDeviceGetClockInfo_SM")),
        mem_clock_mhz=_number(device.get("nvmlDeviceGetClockInfo_MEM")),
        processes=_processes(device),
    )


def snapshot_from_raw(
    raw: Mapping[str, Any],
    source: TelemetrySourceKind,
    accounting: ModelAccounting = ACCOUNTING,
    time_ms: float | None = None,
    where: str = "record",
) -> TelemetrySnapshot:
    devices = raw.get("devices")
    if not isinstance(devices, list):
        raise RawRecordError(f"{where}: no devices list")
    gpus = tuple(gpu_from_raw(d, f"{where}: devices[{i}]") for i, d in enumerate(devices))
    recorded = raw.get("system_memory")
    if isinstance(recorded, dict) and isinstance(recorded.get("used_bytes"), int):
        system = SystemMemory(
            memory_used_bytes=int(recorded["used_bytes"]), memory_total_bytes=int(recorded["total_bytes"])
        )
    else:
        system = system_memory()
    stamp = raw.get("time")
    if time_ms is None:
        time_ms = float(stamp) * 1000 if isinstance(stamp, (int, float)) else time.time() * 1000
    reason = None if gpus else "NVML works but found no NVIDIA GPU"
    return TelemetrySnapshot(source, time_ms, gpus, system, _models(raw, accounting, where), reason)


def _models(raw: Mapping[str, Any], accounting: ModelAccounting, where: str) -> tuple[ModelMemory, ...]:
    """The live accounting, plus what a record says its recording process's accounting held (an optional
    ``models`` list of ``{role, model_id, device, bytes}``): a recording made beside a model loader replays
    with the models that held its memory. Live entries win over recorded ones of the same role, model and device."""
    live = accounting.holdings()
    recorded = raw.get("models")
    if recorded is None:
        return live
    if not isinstance(recorded, list):
        raise RawRecordError(f"{where}: models is not a list")
    merged: dict[tuple[str, str, str], ModelMemory] = {}
    for i, m in enumerate(recorded):
        ok = isinstance(m, dict) and all(isinstance(m.get(k), str) and m[k] for k in ("role", "model_id", "device"))
        size = m.get("bytes") if isinstance(m, dict) else None
        if not ok or isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise RawRecordError(f"{where}: models[{i}] needs role, model_id, device and bytes ({m!r})")
        merged[(m["role"], m["model_id"], m["device"])] = ModelMemory(
            role=m["role"], model_id=m["model_id"], device=m["device"], bytes=size
        )
    for h in live:
        merged[(h["role"], h["model_id"], h["device"])] = h
    return tuple(sorted(merged.values(), key=lambda h: (h["device"], h["role"], h["model_id"])))


class NvmlSource:
    kind: TelemetrySourceKind = "nvml"

    def __init__(self, accounting: ModelAccounting = ACCOUNTING, nvml: Any | None = None) -> None:
        self._nvml = nvml if nvml is not None else _load_pynvml()
        self._accounting = accounting
        try:
            self._nvml.nvmlInit()
        except self._nvml.NVMLError as exc:
            raise NvmlUnavailable(_explain(self._nvml, exc)) from exc
        try:
            count = self._nvml.nvmlDeviceGetCount()
        except self._nvml.NVMLError as exc:
            self.close()
            raise NvmlUnavailable(_explain(self._nvml, exc)) from exc
        if count == 0:
            self.close()
            raise NvmlUnavailable("NVML works but found no NVIDIA GPU")

    def read_raw(self) -> dict[str, Any]:
        return read_raw(self._nvml)

    def sample(self) -> TelemetrySnapshot:
        return snapshot_from_raw(self.read_raw(), "nvml", self._accounting, time.time() * 1000)

    def close(self) -> None:
        with contextlib.suppress(self._nvml.NVMLError):
            self._nvml.nvmlShutdown()
