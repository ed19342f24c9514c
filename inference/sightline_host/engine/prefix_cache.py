"""The prefix cache's store: blocks of KV (all layers, `block` positions) in a pool on the GPU.

After a prompt is prefilled its full blocks are copied into the pool; a later prompt that starts with the same
tokens (the system prompt and element list of the next turn, say) copies them back into the live cache and
prefills only the rest. `PrefixIndex` decides which blocks match and which slots to use.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from sightline_host.engine.prefix_index import PrefixIndex


class PrefixCache:
    def __init__(self, k_cache: torch.Tensor, block: int = 64, capacity_tokens: int = 8192) -> None:
        """`k_cache`: the decoder's live cache [layers, max_seq, kv_heads, head_dim], for shapes and device."""
        layers, _, kv_heads, head_dim = k_cache.shape
        capacity = max(1, capacity_tokens // block)
        self.index = PrefixIndex(block, capacity)
        self.block = block
        pool = (capacity, layers, block, kv_heads, head_dim)
        self.k = torch.empty(pool, device=k_cache.device, dtype=k_cache.dtype)
        self.v = torch.empty_like(self.k)

    def nbytes(self) -> int:
        return 2 * self.k.numel() * self.k.element_size()

    def restore(self, tokens: Sequence[int], k_cache: torch.Tensor, v_cache: torch.Tensor, limit: int) -> int:
        """Copies the longest cached prefix of `tokens` (at most `limit` tokens) into the live cache; its size."""
        slots = self.index.match(tokens, limit)
        if not slots:
            return 0
        n = len(slots) * self.block
        index = torch.tensor(slots, device=self.k.device)
        layers = k_cache.shape[0]
        for pool, live in ((self.k, k_cache), (self.v, v_cache)):
            blocks = pool.index_select(0, index)  # [n_blocks, layers, block, heads, dim]
            live[:, :n].copy_(blocks.transpose(0, 1).reshape(layers, n, *live.shape[2:]))
        return n

    def save(self, tokens: Sequence[int], k_cache: torch.Tensor, v_cache: torch.Tensor) -> int:
        """Stores the full blocks of `tokens` (whose KV are in the live cache) that the pool lacks; returns how many."""
        claimed = self.index.insert(tokens)
        for block_index, slot in claimed:
            a = block_index * self.block
            self.k[slot].copy_(k_cache[:, a : a + self.block])
            self.v[slot].copy_(v_cache[:, a : a + self.block])
        return len(claimed)

    def clear(self) -> None:
        self.index.clear()
