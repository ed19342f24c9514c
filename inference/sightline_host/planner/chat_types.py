"""What every chat engine takes and yields, whatever runs underneath (llama.cpp, PyTorch, a remote server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatRequest:
    messages: list[ChatMessage]
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int | None = None
    # A JSON Schema the answer must match; enforced token by token, not checked afterwards.
    json_schema: dict[str, Any] | None = None
    stop: list[str] = field(default_factory=list)


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

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class ChatEngine(Protocol):
    model_id: str

    def stream(self, request: ChatRequest, usage: Usage, cancelled: Callable[[], bool]) -> Iterator[ChatDelta]:
        """Yields the answer as it is generated; fills `usage`; stops early when `cancelled()` turns true."""
        ...
