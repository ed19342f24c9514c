"""Results remembered by the exact pixels they were computed from, so a re-observed screen recomputes only what
changed: the recognizer's reading of a text crop (`pipeline`), the UI detector's boxes for one pass (`detector`).

A hit is exact only where the result is a function of the key's pixels and of settings fixed for the cache's life;
each user says why that holds for it. The key is the array's shape plus a SHA-256 of its bytes: a collision is not a
practical concern, and SHA-256 is the fastest hash in the standard library on CPUs with SHA instructions (about
1.4 GB/s on the 2-core VM: a 1080p frame in ~4 ms, its text crops in ~3 ms)."""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

PixelKey = tuple[tuple[int, ...], bytes]
V = TypeVar("V")


def pixel_key(pixels: NDArray[np.uint8]) -> PixelKey:
    return pixels.shape, hashlib.sha256(np.ascontiguousarray(pixels).data).digest()


@dataclass
class CacheCounts:
    hits: int = 0
    misses: int = 0


class PixelCache(Generic[V]):
    """A bounded least-recently-used map from pixel keys (and whatever else a user adds to them) to results. Not
    thread-safe: its users compute one frame at a time under their own locks."""

    def __init__(self, entries: int) -> None:
        if entries < 1:
            raise ValueError(f"a pixel cache needs at least one entry, got {entries}")
        self.entries = entries
        self.counts = CacheCounts()
        self._results: OrderedDict[object, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._results)

    def get(self, key: object) -> V | None:
        result = self._results.get(key)
        if result is None:
            self.counts.misses += 1
            return None
        self._results.move_to_end(key)
        self.counts.hits += 1
        return result

    def put(self, key: object, result: V) -> None:
        self._results[key] = result
        self._results.move_to_end(key)
        while len(self._results) > self.entries:
            self._results.popitem(last=False)

    def clear(self) -> None:
        self._results.clear()
        self.counts = CacheCounts()
