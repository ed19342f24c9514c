"""GGUF models on the CPU through llama.cpp (llama-cpp-python), with llguidance constraining the output."""

from __future__ import annotations

import codecs
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import llama_cpp
import llguidance
import numpy as np
import numpy.typing as npt
from llama_cpp import llama_types
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llguidance.llamacpp import lltokenizer_from_vocab

from sightline_host.planner.chat_types import ChatDelta, ChatRequest, EngineError, FinishReason, Usage
from sightline_host.planner.json_constraint import JsonSchemaConstraint


class LlamaCppEngine:
    """One model, one request at a time (a llama.cpp context is not shared between threads).

    The KV cache of the previous request stays in the context, and llama-cpp-python
    skips the prefill of the prompt prefix they share: the system prompt and, on an
    unchanged screen, the element list.
    """

    def __init__(
        self,
        model_id: str,
        path: Path,
        context: int = 4096,
        threads: int | None = None,
        repeat_penalty: float = 1.1,
    ) -> None:
        if not path.is_file():
            raise EngineError("model_unavailable", f"model file {path} is missing", 503)
        self.model_id = model_id
        self._repeat_penalty = repeat_penalty
        self._llama = llama_cpp.Llama(
            model_path=str(path), n_ctx=context, n_threads=threads or _default_threads(), verbose=False
        )
        self._vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise EngineError("model_unavailable", f"{path.name} carries no chat template", 503)
        self._format = Jinja2ChatFormatter(
            template,
            eos_token=self._token_text(self._llama.token_eos()),
            bos_token=self._token_text(self._llama.token_bos()),
        )
        self._tokenizer: llguidance.LLTokenizer | None = None
        self._lock = threading.Lock()

    @property
    def context(self) -> int:
        return int(self._llama.n_ctx())

    def _token_text(self, token: int) -> str:
        return self._llama.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _constraint_tokenizer(self) -> llguidance.LLTokenizer:
        # About 0.3 s for a 49k vocabulary; built once, on the first constrained request.
        if self._tokenizer is None:
            with warnings.catch_warnings():
                # llguidance reads each token's attributes through a name llama-cpp-python has deprecated.
                warnings.simplefilter("ignore", DeprecationWarning)
                self._tokenizer = lltokenizer_from_vocab(self._vocab)
        return self._tokenizer

    def prompt_tokens(self, request: ChatRequest) -> list[int]:
        messages = cast(
            "list[llama_types.ChatCompletionRequestMessage]",
            [{"role": m.role, "content": m.content} for m in request.messages],
        )
        prompt = self._format(messages=messages).prompt
        return list(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def stream(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        with self._lock:
            yield from self._stream_locked(request, usage, cancelled)

    def _stream_locked(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        tokens = self.prompt_tokens(request)
        usage.prompt_tokens = len(tokens)
        if len(tokens) + request.max_tokens > self.context:
            raise EngineError(
                "context_length_exceeded",
                f"the prompt ({len(tokens)} tokens) plus max_tokens ({request.max_tokens}) exceeds "
                f"the model's context of {self.context} tokens",
            )
        usage.cached_prompt_tokens = _common_prefix(self._llama.input_ids[: self._llama.n_tokens].tolist(), tokens)
        constraint = (
            JsonSchemaConstraint(self._constraint_tokenizer(), request.json_schema) if request.json_schema else None
        )

        def mask(_ids: npt.NDArray[np.intc], logits: npt.NDArray[np.single]) -> npt.NDArray[np.single]:
            return constraint.mask_logits(logits) if constraint else logits

        if request.seed is not None:
            self._llama.set_seed(request.seed)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = ""
        finish: FinishReason = "length"
        generated = self._llama.generate(
            tokens,
            temp=request.temperature,
            repeat_penalty=self._repeat_penalty,
            logits_processor=llama_cpp.LogitsProcessorList([mask]),
        )
        for token in generated:
            if cancelled():
                return
            if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                finish = "stop"
                break
            usage.completion_tokens += 1
            if constraint:
                constraint.advance(token)
            piece = decoder.decode(self._llama.detokenize([token]))
            text += piece
            stop_at = _first_stop(text, request.stop)
            if stop_at is not None:
                cut = len(text) - stop_at
                if cut < len(piece):
                    yield ChatDelta(piece[: len(piece) - cut])
                finish = "stop"
                break
            if piece:
                yield ChatDelta(piece)
            if constraint and constraint.finished:
                finish = "stop"
                break
            if usage.completion_tokens >= request.max_tokens:
                break
        yield ChatDelta("", finish)


def _default_threads() -> int:
    # llama.cpp's threads wait for each other at every layer; one more thread than there are free
    # cores stalls them all (seen here: a 300-token prefill took 14 s instead of 1 s with another
    # process busy on one of two cores). Half the logical cores is llama.cpp's own default.
    return max(1, (os.cpu_count() or 2) // 2)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _first_stop(text: str, stops: list[str]) -> int | None:
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None
