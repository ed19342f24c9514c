"""A transformers VLM behind the host's chat endpoint: images and text in, streamed text out, one request at a
time, with the answer constrained by llguidance when the request carries a JSON schema or a grammar."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import llguidance
import torch
from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from sightline_host.planner.chat_types import ChatDelta, ChatRequest, EngineError, FinishReason, Usage
from sightline_host.planner.incremental_text import IncrementalText
from sightline_host.planner.stop_strings import SentText
from sightline_host.vlm.backends import Sampling, VlmBackend
from sightline_host.vlm.grammar_constraint import GrammarConstraint, grammar_for

_Item = int | BaseException | None


class _TokenQueue(BaseStreamer):
    """Hands each generated token to the reading thread; generate() first puts the prompt, which is skipped."""

    def __init__(self, items: queue.Queue[_Item]) -> None:
        self._items = items
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self._items.put(int(token))

    def end(self) -> None:
        return None


class _StopWhen(StoppingCriteria):
    def __init__(self, stop: Callable[[], bool]) -> None:
        self._stop = stop

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor | None, **_: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self._stop(), dtype=torch.bool, device=input_ids.device)


class TransformersVlmEngine:
    def __init__(self, model_id: str, backend: VlmBackend, context: int) -> None:
        self.model_id = model_id
        self._backend = backend
        self._context = context
        self._lock = threading.Lock()
        self._lltokenizer: llguidance.LLTokenizer | None = None

    def _constraint_tokenizer(self) -> llguidance.LLTokenizer:
        # About a second for a 150k vocabulary: built once, on the first constrained request.
        if self._lltokenizer is None:
            from llguidance.hf import from_tokenizer  # noqa: PLC0415  (imports transformers)

            self._lltokenizer = from_tokenizer(self._backend.tokenizer, eos_token=self._backend.eos_token_ids)
        return self._lltokenizer

    def stream(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        with self._lock:
            yield from self._stream_locked(request, usage, cancelled)

    def _stream_locked(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        grammar = grammar_for(request.json_schema, request.grammar)
        prompt = self._backend.prepare(request.messages)
        usage.prompt_tokens = prompt.length
        if prompt.length + request.max_tokens > self._context:
            raise EngineError(
                "context_length_exceeded",
                f"the prompt ({prompt.length} tokens, the image's included) plus max_tokens ({request.max_tokens}) "
                f"exceeds the model's context of {self._context} tokens",
            )
        processors = LogitsProcessorList()
        if grammar is not None:
            processors.append(GrammarConstraint(self._constraint_tokenizer(), grammar, prompt.length))
        if request.seed is not None:
            torch.manual_seed(request.seed)

        items: queue.Queue[_Item] = queue.Queue()
        stop = threading.Event()

        def generate() -> None:
            try:
                with torch.inference_mode():
                    self._backend.generate(
                        prompt,
                        Sampling(request.max_tokens, request.temperature),
                        streamer=_TokenQueue(items),
                        logits_processor=processors,
                        stopping_criteria=StoppingCriteriaList([_StopWhen(lambda: stop.is_set() or cancelled())]),
                    )
            except BaseException as error:  # handed to the reading side, which raises it there
                items.put(error)
            finally:
                items.put(None)

        worker = threading.Thread(target=generate, name=f"vlm-{self.model_id}", daemon=True)
        worker.start()
        try:
            yield from self._read(items, request, usage, stop)
        finally:
            # A finished answer, a stop string, or a client that went away: generation ends at its next token.
            stop.set()
            worker.join()

    def _read(
        self, items: queue.Queue[_Item], request: ChatRequest, usage: Usage, stop: threading.Event
    ) -> Iterator[ChatDelta]:
        answer = IncrementalText(self._backend.tokenizer)
        sent = SentText(request.stop)
        finish: FinishReason = "length"
        while (item := items.get()) is not None:
            if isinstance(item, EngineError):
                raise item
            if isinstance(item, BaseException):
                raise EngineError("engine_error", f"{self.model_id} failed while generating: {item}", 500) from item
            if stop.is_set():
                continue  # a stop string ended the answer; tokens still in flight are dropped
            if item in self._backend.eos_token_ids:
                finish = "stop"
                continue
            usage.completion_tokens += 1
            if not answer.add(item):
                continue  # half of a multi-byte character: wait for the rest
            piece = sent.advance(answer.text)
            if piece:
                yield ChatDelta(piece)
            if sent.stopped:
                finish = "stop"
                stop.set()
        if tail := sent.rest(answer.whole()):
            yield ChatDelta(tail)
        yield ChatDelta("", finish)
