"""One stream's token loop over a `LlamaDecoder`, as a server drives it: prefill a prompt (reusing the cached
prefix), then alternately pick a token from the pending logits and feed it back.

Two loops share the interface:

* `GraphLoop` (CUDA): the fused decode step and the greedy pick are CUDA graphs (graph_decode.Engine). `feed`
  only launches the step, so whatever the caller does next on the CPU (streaming the text, advancing the
  grammar and computing the next bitmask) overlaps the GPU's work.
* `EagerLoop` (any device, the CPU included): each token runs through the decoder's PyTorch prefill path. It
  is what a host without a GPU runs, and what the tests run.

A pick takes an optional bitmask (llguidance's layout: int32 words, bit i allows token i) and a temperature;
0 means greedy.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from sightline_host.engine.graph_decode import Engine
from sightline_host.engine.llama import LlamaDecoder
from sightline_host.engine.prefix_index import common_prefix


class TokenLoop(Protocol):
    decoder: LlamaDecoder

    def prefill(self, tokens: list[int]) -> int:
        """Runs the prompt (its uncached part) and leaves the logits of its last token pending; returns how many
        prompt tokens were reused from the cache."""
        ...

    def pick(self, mask: torch.Tensor | None, temperature: float, generator: torch.Generator | None) -> int:
        """The next token from the pending logits; `mask` is a CPU int32 bitmask of the allowed tokens."""
        ...

    def feed(self, token: int) -> None:
        """Runs `token` at the next position; its logits become the pending ones."""
        ...

    def place(self, token: int) -> None:
        """Leaves the loop as `pick` would have had it picked `token`: a tensor-parallel follower's pick, whose
        token rank 0 chose."""
        ...

    def positions(self) -> int:
        """Positions of the KV cache in use (the prompt and the tokens fed since)."""
        ...

    def forget(self) -> None:
        """Drops every cached prefix: the next prompt is prefilled whole (a benchmark's cold start)."""
        ...

    def sync(self) -> None:
        """Waits for the work launched so far (after the last token, before the cache is read by anyone else)."""
        ...


def mask_words(vocab_size: int) -> int:
    return (vocab_size + 31) // 32


def _sample(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> int:
    if temperature <= 0.0:
        return int(torch.argmax(logits))
    probabilities = torch.softmax(logits.float() / temperature, dim=-1)
    return int(torch.multinomial(probabilities, 1, generator=generator))


def _apply_mask_cpu(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """logits with every token whose bit is clear set to -inf (on the logits' device)."""
    bits = np.unpackbits(mask.numpy().reshape(-1).view(np.uint8), bitorder="little")[: logits.numel()]
    refused = np.ones(logits.numel(), dtype=bool)  # tokens past the mask's vocabulary are never picked
    refused[: bits.size] = bits == 0
    return logits.masked_fill(torch.from_numpy(refused).to(logits.device), float("-inf"))


class EagerLoop:
    def __init__(self, decoder: LlamaDecoder) -> None:
        self.decoder = decoder
        self.cached: list[int] = []  # tokens whose KV sit in the cache at positions 0..len-1
        self._logits: torch.Tensor | None = None

    def prefill(self, tokens: list[int]) -> int:
        reused = min(common_prefix(tokens, self.cached), len(tokens) - 1)
        device = self.decoder.embed.device
        with torch.no_grad():
            self._logits = self.decoder.prefill(torch.tensor(tokens[reused:], device=device), start=reused)
        self.cached = list(tokens)
        return reused

    def pick(self, mask: torch.Tensor | None, temperature: float, generator: torch.Generator | None) -> int:
        if self._logits is None:
            raise RuntimeError("pick before prefill")
        logits = self._logits if mask is None else _apply_mask_cpu(self._logits, mask)
        return _sample(logits, temperature, generator)

    def feed(self, token: int) -> None:
        position = len(self.cached)
        if position >= self.decoder.max_seq:
            raise ValueError(f"{position + 1} positions do not fit the cache of {self.decoder.max_seq}")
        device = self.decoder.embed.device
        with torch.no_grad():
            self._logits = self.decoder.prefill(torch.tensor([token], device=device), start=position)
        self.cached.append(token)

    def place(self, token: int) -> None:
        return None  # the pending logits stay until `feed`; nothing else moves

    def positions(self) -> int:
        return len(self.cached)

    def forget(self) -> None:
        self.cached = []

    def sync(self) -> None:
        return None


class GraphLoop:
    """The CUDA path. State between calls: after `prefill` the logits are the prefill's (a separate tensor) and
    `decoder.position` is the prompt's length; after `feed` they are in `decoder.logits`, computed by the
    captured step, and a greedy pick runs the captured masked-argmax graph, which also moves the position on."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.decoder = engine.decoder
        # Words past the tokenizer's vocabulary (a padded embedding) stay zero: those tokens are never picked.
        engine.mask_host.zero_()
        self._prefill_logits: torch.Tensor | None = None
        self._placed: int | None = None  # the token in `decoder.token`, as the host knows it (no readback)

    def prefill(self, tokens: list[int]) -> int:
        self._placed = None
        with torch.no_grad():
            result = self.engine.prefill(tokens)
        self._prefill_logits = result.logits
        return result.reused

    def pick(self, mask: torch.Tensor | None, temperature: float, generator: torch.Generator | None) -> int:
        d, engine = self.decoder, self.engine
        if mask is not None:
            engine.mask_host[0, : mask.numel()].copy_(mask.reshape(-1))
            engine.mask.copy_(engine.mask_host[0], non_blocking=True)
        if self._prefill_logits is None and temperature <= 0.0:
            # The step's logits: the captured pick (argmax, position + 1, token to pinned memory).
            engine.run("masked_sample" if mask is not None else "sample")
            engine.done.record()
            engine.done.synchronize()
            self._placed = int(engine.host_token[0])
            return self._placed
        logits = self._prefill_logits if self._prefill_logits is not None else d.logits
        logits = logits.clone()
        if mask is not None:
            from sightline_host.engine.triton_decode import apply_token_bitmask  # noqa: PLC0415

            apply_token_bitmask(logits, engine.mask)
        token = _sample(logits, temperature, generator)
        self.place(token)
        return token

    def place(self, token: int) -> None:
        d = self.decoder
        d.token.fill_(token)
        if self._prefill_logits is None:  # the captured pick moves on from a step's position; a prefill's is set
            d.position.add_(1)
        self._prefill_logits, self._placed = None, token

    def positions(self) -> int:
        return len(self.engine.cached)

    def forget(self) -> None:
        self.engine.cached = []
        if self.engine.prefix_cache is not None:
            self.engine.prefix_cache.clear()

    def feed(self, token: int) -> None:
        d = self.decoder
        if len(self.engine.cached) >= d.max_seq:
            raise ValueError(f"{len(self.engine.cached) + 1} positions do not fit the cache of {d.max_seq}")
        if self._placed != token:  # a token the caller chose itself
            d.token.fill_(token)
            self._placed = token
        self._prefill_logits = None
        self.engine.cached.append(token)
        self.engine.run("forward")

    def sync(self) -> None:
        torch.cuda.synchronize()
