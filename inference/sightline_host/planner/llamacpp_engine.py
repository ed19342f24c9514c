"""GGUF models on the CPU through llama.cpp (llama-cpp-python), with llguidance constraining the output."""

from __future__ import annotations

import codecs
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

from sightline_host.planner.chat_types import ChatDelta, ChatRequest, EngineError, FinishReason, Usage, check_fits
from sightline_host.planner.cpu_threads import default_threads
from sightline_host.planner.json_constraint import JsonSchemaConstraint
from sightline_host.planner.stop_strings import SentText


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
            model_path=str(path), n_ctx=context, n_threads=threads or default_threads(), verbose=False
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
        check_fits(len(tokens), request.max_tokens, self.context)
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
        sent = SentText(request.stop)
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
            text += decoder.decode(self._llama.detokenize([token]))
            piece = sent.advance(text)
            if piece:
                yield ChatDelta(piece)
            if sent.stopped:
                yield ChatDelta("", "stop")
                return
            if constraint and constraint.finished:
                finish = "stop"
                break
            if usage.completion_tokens >= request.max_tokens:
                break
        if tail := sent.rest(text):
            yield ChatDelta(tail)
        yield ChatDelta("", finish)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
