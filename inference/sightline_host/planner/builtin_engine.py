"""The host's own engine (engine/) behind the chat endpoint: a Llama-architecture planner from a safetensors
folder or a GGUF file, on the GPU through CUDA graphs and fused kernels, or on the CPU through PyTorch.

One request at a time. The KV cache of the previous request stays, so the next prompt prefills only what
differs from it (the system prompt and an unchanged element list are not run again); a block store keeps
earlier prefixes too. A JSON schema or grammar is enforced by llguidance at every token: the bitmask of the
next allowed tokens is computed on the CPU while the GPU runs the step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import llguidance
import llguidance.torch as llg_torch
import torch

from sightline_host.engine.token_loop import TokenLoop, mask_words
from sightline_host.planner.chat_types import ChatDelta, ChatRequest, EngineError, FinishReason, Usage, check_fits
from sightline_host.planner.incremental_text import IncrementalText
from sightline_host.planner.stop_strings import SentText
from sightline_host.vlm.grammar_constraint import grammar_for

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def loop_memory(loop: TokenLoop) -> dict[str, int]:
    d = loop.decoder
    held = d.weight_bytes() - d.embed.shape[1] * d.embed.element_size()  # one embedding row counted there
    held += d.embed.numel() * d.embed.element_size() + 2 * d.k_cache.numel() * d.k_cache.element_size()
    store = getattr(getattr(loop, "engine", None), "prefix_cache", None)
    held += store.nbytes() if store is not None else 0
    return {str(d.embed.device): held}


class BuiltinPlannerEngine:
    def __init__(
        self,
        model_id: str,
        loop: TokenLoop,
        tokenizer: PreTrainedTokenizerBase,
        eos_token_ids: tuple[int, ...],
        context: int,
    ) -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise EngineError("model_unavailable", f"{model_id}'s tokenizer carries no chat template", 503)
        self.model_id = model_id
        self.context = context
        self._loop = loop
        self._tokenizer = tokenizer
        self._eos = frozenset(eos_token_ids)
        self._lock = threading.Lock()
        self._lltokenizer: llguidance.LLTokenizer | None = None

    def memory(self) -> dict[str, int]:
        """Bytes this engine holds, by device: weights, the KV cache and the prefix cache's block store (on every
        GPU of a tensor-parallel split)."""
        held = loop_memory(self._loop)
        for follower in getattr(self._loop, "follower_memory", []):
            for device, size in follower.items():
                held[device] = held.get(device, 0) + size  # ranks on the CPU share one "device"
        return held

    def healthy(self) -> bool:
        """False once a tensor-parallel rank is lost: the registry then loads the model again."""
        check = getattr(self._loop, "healthy", None)
        return bool(check()) if callable(check) else True

    def close(self) -> None:
        """Stops the tensor-parallel followers, if any; the rest is freed with the engine."""
        close = getattr(self._loop, "close", None)
        if callable(close):
            close()

    def _constraint_tokenizer(self) -> llguidance.LLTokenizer:
        # About a second for a 128k vocabulary: built once, on the first constrained request.
        if self._lltokenizer is None:
            from llguidance.hf import from_tokenizer  # noqa: PLC0415  (imports transformers)

            self._lltokenizer = from_tokenizer(self._tokenizer, eos_token=sorted(self._eos))  # type: ignore[arg-type]
        return self._lltokenizer

    def prompt_tokens(self, request: ChatRequest) -> list[int]:
        if any(m.images for m in request.messages):
            raise EngineError("bad_request", f"{self.model_id} reads no images", param="messages")
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        ids: Any = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return [int(t) for t in ids]

    def stream(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        with self._lock:
            yield from self._stream_locked(request, usage, cancelled)

    def _stream_locked(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        grammar = grammar_for(request.json_schema, request.grammar)
        tokens = self.prompt_tokens(request)
        usage.prompt_tokens = len(tokens)
        check_fits(len(tokens), request.max_tokens, self.context)
        matcher, mask = self._matcher(grammar)
        generator = None
        if request.temperature > 0.0:
            generator = torch.Generator(device=self._loop.decoder.embed.device)
            generator.manual_seed(request.seed if request.seed is not None else torch.seed())
        try:
            usage.cached_prompt_tokens = self._loop.prefill(tokens)
            yield from self._decode(request, usage, cancelled, matcher, mask, generator)
        finally:
            self._loop.sync()

    def _matcher(self, grammar: str | None) -> tuple[llguidance.LLMatcher | None, torch.Tensor | None]:
        if grammar is None:
            return None, None
        tokenizer = self._constraint_tokenizer()
        matcher = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
        if matcher.is_error():
            raise EngineError("bad_request", f"the answer's constraint is not usable: {matcher.get_error()}")
        # llguidance fills exactly its vocabulary's words; tokens of a larger (padded) embedding stay masked out.
        mask = torch.zeros(1, mask_words(tokenizer.vocab_size), dtype=torch.int32)
        return matcher, mask

    def _decode(
        self,
        request: ChatRequest,
        usage: Usage,
        cancelled: Callable[[], bool],
        matcher: llguidance.LLMatcher | None,
        mask: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> Iterator[ChatDelta]:
        answer = IncrementalText(self._tokenizer)
        sent = SentText(request.stop)
        finish: FinishReason = "length"
        while usage.completion_tokens < request.max_tokens:
            if cancelled():
                return
            if matcher is not None and mask is not None:
                llg_torch.fill_next_token_bitmask(matcher, mask)
            token = self._loop.pick(mask, request.temperature, generator)
            if token in self._eos and (matcher is None or matcher.is_accepting()):
                finish = "stop"
                break
            if matcher is not None and not matcher.consume_token(token):
                raise EngineError("internal", f"the constraint refused token {token}: {matcher.get_error()}", 500)
            usage.completion_tokens += 1
            done = matcher is not None and matcher.is_stopped()
            if not done and usage.completion_tokens < request.max_tokens:
                self._loop.feed(token)  # the GPU runs it while the text below is decoded and streamed
            if not answer.add(token) and not done:
                continue  # half of a multi-byte character: wait for the rest
            decoded = answer.whole() if done else answer.text
            piece = sent.advance(decoded)
            if piece:
                yield ChatDelta(piece)
            if sent.stopped:
                yield ChatDelta("", "stop")
                return
            if done:
                finish = "stop"
                break
        if tail := sent.rest(answer.whole()):
            yield ChatDelta(tail)
        yield ChatDelta("", finish)
