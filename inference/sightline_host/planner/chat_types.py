"""What every chat engine takes and yields, whatever runs underneath (llama.cpp, PyTorch, a remote server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, eq=False)
class ChatImage:
    """A decoded image of a message: RGB pixels of shape (height, width, 3), and the data URL it came as, which
    an external engine gets forwarded unchanged (no re-encoding)."""

    pixels: NDArray[np.uint8]
    data_url: str

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str
    # Only the vlm role takes images; every VLM we serve reads them before the text of their message.
    images: tuple[ChatImage, ...] = ()


@dataclass(frozen=True)
class ChatRequest:
    messages: list[ChatMessage]
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int | None = None
    # A JSON Schema the answer must match; enforced token by token, not checked afterwards.
    json_schema: dict[str, Any] | None = None
    stop: list[str] = field(default_factory=list)
    # A llguidance Lark grammar the answer must match (Molmo's point syntax, see vlm/point_grammar.py). Set only
    # by the host's own callers, never from HTTP; the in-process VLM engine enforces it token by token.
    grammar: str | None = None


@dataclass(frozen=True)
class ChatDelta:
    text: str
    finish_reason: FinishReason | None = None


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Prompt tokens whose KV came from the previous request's cache instead of a fresh prefill.
    cached_prompt_tokens: int = 0


class EngineError(Exception):
    """A request the engine cannot serve; `code` follows the host's error codes."""

    def __init__(self, code: str, message: str, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        # The request field at fault, as OpenAI's errors name it (e.g. "messages.0.content.1.image_url.url").
        self.param = param


def check_fits(prompt_tokens: int, max_tokens: int, context: int) -> None:
    """The error clients parse (the agent re-plans with fewer elements) when prompt and answer overflow the context."""
    if prompt_tokens + max_tokens > context:
        raise EngineError(
            "context_length_exceeded",
            f"the prompt ({prompt_tokens} tokens) plus max_tokens ({max_tokens}) exceeds "
            f"the model's context of {context} tokens",
        )


class ChatEngine(Protocol):
    model_id: str

    def stream(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        """Yields the answer as it is generated; fills `usage`; stops early when `cancelled()` turns true."""
        ...
