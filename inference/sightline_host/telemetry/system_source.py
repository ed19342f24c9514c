"""System memory, for machines without an NVIDIA GPU (and alongside NVML on machines with one)."""

from __future__ import annotations

import ctypes
import os
import sys
import time
from pathlib import Path

from sightline_host.protocol.types import SystemMemory, TelemetrySourceKind
from sightline_host.telemetry.accounting import ACCOUNTING, ModelAccounting
from sightline_host.telemetry.snapshot import TelemetrySnapshot

MEMINFO = Path("/proc/meminfo")


def parse_meminfo(text: str) -> SystemMemory:
    """``MemTotal`` and ``MemAvailable`` (kB) of /proc/meminfo → used = total - available, in bytes."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            scale = 1024 if len(parts) > 1 and parts[1].lower() == "kb" else 1
            values[key.strip()] = int(parts[0]) * scale
    if "MemTotal" not in values:
        raise ValueError("/proc/meminfo has no MemTotal line")
    total = values["MemTotal"]
    available = values.get("MemAvailable")
    if available is None:  # kernels before 3.14
        available = values.get("MemFree", 0) + values.get("Buffers", 0) + values.get("Cached", 0)
    return SystemMemory(memory_used_bytes=max(0, total - available), memory_total_bytes=total)


def system_memory() -> SystemMemory:
    if MEMINFO.is_file():
        return parse_meminfo(MEMINFO.read_text("ascii", errors="replace"))
    if sys.platform == "win32":
        return _windows_memory()
    # macOS and other Unixes: total from sysconf; "available" is not portable there.
    page = os.sysconf("SC_PAGE_SIZE")
    total = os.sysconf("SC_PHYS_PAGES") * page
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * page
    except (ValueError, OSError):
        free = 0
    return SystemMemory(memory_used_bytes=max(0, total - free), memory_total_bytes=total)


def _windows_memory() -> SystemMemory:  # pragma: no cover - exercised on Windows only
    class MemoryStatusEx(ctypes.Structure):
        _fields_ = [  # noqa: RUF012 - ctypes wants a plain list
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatusEx()
    status.dwLength = ctypes.sizeof(MemoryStatusEx)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined,unused-ignore]
        raise OSError("GlobalMemoryStatusEx failed")
    return SystemMemory(
        memory_used_bytes=int(status.ullTotalPhys - status.ullAvailPhys), memory_total_bytes=int(status.ullTotalPhys)
    )


class SystemSource:
    """No GPU figures; system memory and the model registry, with the reason there are no GPUs."""

    kind: TelemetrySourceKind = "system"

    def __init__(self, reason: str, accounting: ModelAccounting = ACCOUNTING) -> None:
        self.reason = reason
        self._accounting = accounting

    def sample(self) -> TelemetrySnapshot:
        return TelemetrySnapshot(
            source="system",
            time_ms=time.time() * 1000,
            gpus=(),
            system=system_memory(),
            models=self._accounting.holdings(),
            reason=self.reason,
        )

    def close(self) -> None:
        return None
