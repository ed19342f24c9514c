"""The vlm role served by an external OpenAI-compatible engine (vLLM runs Molmo natively): the host forwards each
message's images as `image_url` parts, the data URLs exactly as they came in.

A grammar (ChatRequest.grammar) is not forwarded: vLLM's structured-output backends speak other grammar dialects
than llguidance's Lark. A trained Molmo writes its point syntax by itself, and `parse_points` skips anything
malformed, so pointing through vLLM relies on the model rather than on a constraint.
"""

from __future__ import annotations

from typing import Any

from sightline_host.planner.chat_types import ChatMessage, ChatRequest
from sightline_host.planner.external.proxy import ProxyChatEngine


def openai_content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """A message as OpenAI's API writes it: plain text, or its images followed by its text as content parts."""
    if not message.images:
        return message.content
    parts: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": image.data_url}} for image in message.images
    ]
    if message.content:
        parts.append({"type": "text", "text": message.content})
    return parts


class VisionProxyChatEngine(ProxyChatEngine):
    def body(self, request: ChatRequest) -> dict[str, Any]:
        body = super().body(request)
        body["messages"] = [{"role": m.role, "content": openai_content(m)} for m in request.messages]
        return body
