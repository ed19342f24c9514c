"""The engine's request loop for one stream: prefill with prefix reuse, then greedy decode by CUDA-graph replay,
optionally constrained by a grammar (llguidance) at every token.

Graphs: `forward` (the fused decode step up to the logits), `sample` (argmax, advance one position, copy the
token to pinned host memory) and `masked_sample` (the grammar's bitmask applied first). `fast` is forward and
sample in one graph, for streams that read the tokens back only at the end.

Constrained decoding overlaps the grammar with the GPU: the forward graph is launched first, and while it runs
the CPU computes the bitmask of the allowed next tokens (the matcher has already taken the previous token);
the mask is copied up, applied by a small kernel, and only then is the token read back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from sightline_host.engine.llama import LlamaDecoder
from sightline_host.engine.prefix_cache import PrefixCache
from sightline_host.engine.prefix_index import common_prefix
from sightline_host.engine.triton_decode import apply_token_bitmask


@dataclass
class Prefill:
    first_token: int
    reused: int  # prompt tokens whose KV came from the cache instead of being computed
    from_store: bool  # the reuse came from the block store (not the live cache)
    logits: torch.Tensor


@dataclass
class ConstrainedRun:
    tokens: list[int] = field(default_factory=list)
    mask_seconds: list[float] = field(default_factory=list)  # CPU time computing each bitmask
    step_seconds: list[float] = field(default_factory=list)  # wall time of each token, launch to readback
    completions: int = 0  # times the grammar reached its end (the matcher is then reset)


def _capture(fn: Callable[[], None]) -> torch.cuda.CUDAGraph:
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph


class Engine:
    def __init__(self, decoder: LlamaDecoder, prefix_cache: PrefixCache | None = None, use_graphs: bool = True) -> None:
        self.decoder = decoder
        self.prefix_cache = prefix_cache
        self.cached: list[int] = []  # tokens whose KV sit in the live cache at positions 0..len-1
        device = decoder.embed.device
        self.host_token = torch.zeros(1, dtype=torch.long, pin_memory=True)
        words = (decoder.shape.vocab_size + 31) // 32
        self.mask_host = torch.full((1, words), -1, dtype=torch.int32, pin_memory=True)
        self.mask = torch.full((words,), -1, dtype=torch.int32, device=device)
        self.done = torch.cuda.Event()
        self.use_graphs = use_graphs
        # Warm-up outside any graph (kernel tuning, compilation, NCCL/cuBLAS set-up), on a side stream as
        # graph capture wants; the cache slots it writes are overwritten by the first prompt.
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(2):
                decoder.position.fill_(1)
                self._forward()
                self._masked_sample()
        torch.cuda.current_stream().wait_stream(stream)
        torch.cuda.synchronize()
        self.graphs: dict[str, torch.cuda.CUDAGraph] = {}
        if use_graphs:
            self.graphs = {
                "forward": _capture(self._forward),
                "sample": _capture(self._sample),
                "masked_sample": _capture(self._masked_sample),
                "fast": _capture(self._fast),
            }

    def _forward(self) -> None:
        self.decoder.step()

    def _fast(self) -> None:
        self._forward()
        self.decoder.advance_greedy()

    def _sample(self) -> None:
        self.decoder.advance_greedy()
        self.host_token.copy_(self.decoder.next_token, non_blocking=True)

    def _masked_sample(self) -> None:
        apply_token_bitmask(self.decoder.logits, self.mask)
        self._sample()

    def run(self, name: str) -> None:
        if self.use_graphs:
            self.graphs[name].replay()
        else:
            {
                "forward": self._forward,
                "sample": self._sample,
                "masked_sample": self._masked_sample,
                "fast": self._fast,
            }[name]()

    # ---- prompt ------------------------------------------------------------------------------------------------
    def prefill(self, tokens: list[int], use_prefix_cache: bool = True) -> Prefill:
        """Fills the cache for `tokens`, reusing what it can, and returns the first generated token."""
        d = self.decoder
        reused, from_store = 0, False
        if use_prefix_cache:
            limit = len(tokens) - 1  # the last prompt token is always run: its logits give the first token
            reused = min(common_prefix(tokens, self.cached), limit)
            if self.prefix_cache is not None:
                stored = self.prefix_cache.restore(tokens, d.k_cache, d.v_cache, limit) if reused < limit else 0
                if stored > reused:
                    reused, from_store = stored, True
        device = d.embed.device
        logits = d.prefill(torch.tensor(tokens[reused:], device=device), start=reused)
        first = int(torch.argmax(logits))  # the readback is part of the time to first token
        self.cached = list(tokens)
        if use_prefix_cache and self.prefix_cache is not None:
            self.prefix_cache.save(tokens, d.k_cache, d.v_cache)
        d.token.fill_(first)
        d.position.fill_(len(tokens))
        return Prefill(first, reused, from_store, logits)

    def _generated(self, first: int, tokens: list[int]) -> None:
        # The first token and all but the last generated one have their KV in the cache now.
        self.cached += [first, *tokens[:-1]]

    # ---- decode ------------------------------------------------------------------------------------------------
    def decode(self, first: int, steps: int) -> list[int]:
        """Greedy tokens after `first`, reading them back once at the end (the throughput path)."""
        out = torch.empty(steps, dtype=torch.long, device=self.decoder.embed.device)
        for i in range(steps):
            self.run("fast")
            out[i : i + 1].copy_(self.decoder.next_token)
        tokens = [int(t) for t in out.tolist()]
        self._generated(first, tokens)
        return tokens

    def decode_streaming(self, first: int, steps: int) -> ConstrainedRun:
        """Greedy tokens read back one at a time (what a server streaming tokens does), with no grammar."""
        run = ConstrainedRun()
        for _ in range(steps):
            start = time.perf_counter()
            self.run("forward")
            self.run("sample")
            self.done.record()
            self.done.synchronize()
            run.tokens.append(int(self.host_token[0]))
            run.step_seconds.append(time.perf_counter() - start)
        self._generated(first, run.tokens)
        return run

    def decode_constrained(self, first: int, steps: int, matcher: Any) -> ConstrainedRun:
        """Greedy decoding inside a grammar: `matcher` is an llguidance LLMatcher that has taken `first`."""
        import llguidance.torch as llg_torch  # noqa: PLC0415 - only where constrained decoding runs

        run = ConstrainedRun()
        for _ in range(steps):
            start = time.perf_counter()
            self.run("forward")  # the GPU works on the logits while the CPU computes the mask
            llg_torch.fill_next_token_bitmask(matcher, self.mask_host)
            run.mask_seconds.append(time.perf_counter() - start)
            self.mask.copy_(self.mask_host[0], non_blocking=True)
            self.run("masked_sample")
            self.done.record()
            self.done.synchronize()
            token = int(self.host_token[0])
            run.tokens.append(token)
            if not matcher.consume_token(token):
                raise RuntimeError(f"the grammar refused token {token}: {matcher.get_error()}")
            if matcher.is_stopped():
                run.completions += 1
                matcher.reset()
            run.step_seconds.append(time.perf_counter() - start)
        self._generated(first, run.tokens)
        return run
