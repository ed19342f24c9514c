"""Which cached blocks of KV a prompt can reuse: the bookkeeping of the prefix cache, in plain Python.

A prompt is cut into blocks of `block` tokens. Block i is named by a chain hash of every token up to its end,
so a block is only ever reused after the very same prefix (same system prompt, same element list, same
turns). The index hands out slots of a fixed pool and evicts the least recently used block when it is full;
blocks a prompt is about to use are never evicted for that prompt. The tensors live in prefix_cache.py.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class _Entry:
    slot: int
    tokens: tuple[int, ...]  # the block's own tokens: a hash collision never reuses the wrong block
    parent: int | None


class PrefixIndex:
    def __init__(self, block: int, capacity: int) -> None:
        if block < 1 or capacity < 1:
            raise ValueError("block and capacity must be positive")
        self.block = block
        self.capacity = capacity
        self._entries: OrderedDict[int, _Entry] = OrderedDict()  # chain hash -> entry, least recent first
        self._free = list(range(capacity - 1, -1, -1))

    def __len__(self) -> int:
        return len(self._entries)

    def _chain(self, tokens: Sequence[int]) -> list[tuple[int, tuple[int, ...], int | None]]:
        out: list[tuple[int, tuple[int, ...], int | None]] = []
        parent: int | None = None
        for start in range(0, len(tokens) - self.block + 1, self.block):
            block = tuple(tokens[start : start + self.block])
            key = hash((parent, block))
            out.append((key, block, parent))
            parent = key
        return out

    def match(self, tokens: Sequence[int], limit: int | None = None) -> list[int]:
        """Slots of the longest run of cached blocks from the start of `tokens`, covering at most `limit` tokens."""
        slots: list[int] = []
        blocks = self._chain(tokens)
        if limit is not None:
            blocks = blocks[: limit // self.block]
        for key, block, parent in blocks:
            entry = self._entries.get(key)
            if entry is None or entry.tokens != block or entry.parent != parent:
                break
            self._entries.move_to_end(key)
            slots.append(entry.slot)
        return slots

    def insert(self, tokens: Sequence[int]) -> list[tuple[int, int]]:
        """Claims slots for the full blocks of `tokens` not cached yet: [(block index, slot)] to fill.

        Stops early (caching a shorter prefix) when every slot holds a block of this same prompt.
        """
        chain = self._chain(tokens)
        mine = {key for key, _, _ in chain}
        claimed: list[tuple[int, int]] = []
        for index, (key, block, parent) in enumerate(chain):
            if key in self._entries:
                self._entries.move_to_end(key)
                continue
            slot = self._take_slot(protect=mine)
            if slot is None:
                break
            self._entries[key] = _Entry(slot, block, parent)
            claimed.append((index, slot))
        return claimed

    def _take_slot(self, protect: set[int]) -> int | None:
        if self._free:
            return self._free.pop()
        for key in self._entries:  # least recently used first
            if key not in protect:
                return self._entries.pop(key).slot
        return None

    def clear(self) -> None:
        self._entries.clear()
        self._free = list(range(self.capacity - 1, -1, -1))


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
