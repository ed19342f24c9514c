"""Which loaded model holds how much memory where: the host's model loaders report here.

NVML sees processes, not models; a loader knows what it put on which device. A loader calls
``ACCOUNTING.register("planner", "llama-3.1-8b-instruct", "cuda:0", weight_bytes)`` once the weights are
placed, and ``ACCOUNTING.unregister("planner", "llama-3.1-8b-instruct")`` when it frees them; every
telemetry sample carries the current list.
"""

from __future__ import annotations

import re
import threading

from sightline_host.protocol.types import ModelMemory

_DEVICE = re.compile(r"^(cpu|cuda:\d+|gpu:\d+)$")


class ModelAccounting:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str], ModelMemory] = {}

    def register(self, role: str, model_id: str, device: str, nbytes: int) -> ModelMemory:
        """Record (or replace) what ``model_id`` in ``role`` holds on ``device``. A model split over several
        devices registers once per device."""
        if not role or not model_id:
            raise ValueError("role and model_id must not be empty")
        if not _DEVICE.match(device):
            raise ValueError(f"device {device!r} is not 'cpu' or 'cuda:N'")
        if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
            raise ValueError(f"bytes must be a non-negative integer, not {nbytes!r}")
        holding = ModelMemory(role=role, model_id=model_id, device=device, bytes=nbytes)
        with self._lock:
            self._entries[(role, model_id, device)] = holding
        return holding.copy()

    def unregister(self, role: str, model_id: str, device: str | None = None) -> int:
        """Forget the model (on one device, or on all of them); returns how many entries were removed."""
        with self._lock:
            keys = [k for k in self._entries if k[0] == role and k[1] == model_id and device in (None, k[2])]
            for k in keys:
                del self._entries[k]
        return len(keys)

    def holdings(self) -> tuple[ModelMemory, ...]:
        """Copies of the entries, by device, role and model: changing one leaves the registry as it is."""
        with self._lock:
            entries = [h.copy() for h in self._entries.values()]
        return tuple(sorted(entries, key=lambda h: (h["device"], h["role"], h["model_id"])))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: The host process's registry.
ACCOUNTING = ModelAccounting()
