"""The vlm role's Python API: describe a screenshot, or point at something on it, in the image's own pixels.

The WebSocket session (or any other caller in the host) holds a ScreenVlm over the profile's vlm engine, e.g.
`ChatModels.screen_vlm()`, and calls it off the event loop: both calls block while the model generates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from sightline_host.planner.chat_types import ChatEngine, ChatImage, ChatMessage, ChatRequest, Usage
from sightline_host.vision.molmo_points import MolmoPoint, parse_points
from sightline_host.vlm.data_url import image_from_pixels
from sightline_host.vlm.point_grammar import MAX_POINTS, MAX_TEXT_CHARS, max_answer_tokens, point_grammar

DESCRIBE_PROMPT = "Describe this screenshot: the application, its windows, and the controls a user can act on."
# Molmo's pointing requests are phrased "Point to …" (its PixMo-Points training prompts).
_ALREADY_ASKS = re.compile(r"^\s*point\s+(to|at)\b", re.IGNORECASE)

ImageLike = ChatImage | Image.Image | NDArray[np.uint8]


@dataclass(frozen=True)
class PointAnswer:
    """The model's answer as written, and the points in it in pixels of the image that was asked about."""

    text: str
    points: list[MolmoPoint]


def _never() -> bool:
    return False


def _chat_image(image: ImageLike) -> ChatImage:
    return image if isinstance(image, ChatImage) else image_from_pixels(image)


def pointing_prompt(query: str) -> str:
    """Molmo's phrasing for a target: "the Save icon" → "Point to the Save icon"."""
    target = query.strip()
    if not target:
        raise ValueError("point at what? the query is empty")
    return target if _ALREADY_ASKS.match(target) else f"Point to {target}"


class ScreenVlm:
    def __init__(self, engine: ChatEngine) -> None:
        self.engine = engine

    def _answer(self, request: ChatRequest, cancelled: Callable[[], bool] = _never) -> str:
        text = "".join(delta.text for delta in self.engine.stream(request, Usage(), cancelled))
        return text.strip()

    def describe(self, image: ImageLike, prompt: str = DESCRIBE_PROMPT, max_tokens: int = 256) -> str:
        """What the model sees on `image`, in its own words."""
        message = ChatMessage("user", prompt, (_chat_image(image),))
        return self._answer(ChatRequest([message], max_tokens=max_tokens))

    def ask_point(
        self,
        image: ImageLike,
        query: str,
        max_points: int = MAX_POINTS,
        max_text_chars: int = MAX_TEXT_CHARS,
        cancelled: Callable[[], bool] = _never,
    ) -> PointAnswer:
        """Points at `query` on `image`: the answer is constrained to Molmo's point syntax (see point_grammar).
        `cancelled` is polled between tokens: a caller that gave up (a closed socket) frees the model sooner."""
        picture = _chat_image(image)
        message = ChatMessage("user", pointing_prompt(query), (picture,))
        request = ChatRequest(
            [message],
            # Room for the longest answer the grammar admits, so that no tag is ever cut off.
            max_tokens=max_answer_tokens(max_points, max_text_chars),
            grammar=point_grammar(max_points, max_text_chars),
        )
        text = self._answer(request, cancelled)
        return PointAnswer(text, parse_points(text, picture.width, picture.height))

    def point(
        self, image: ImageLike, query: str, max_points: int = MAX_POINTS, max_text_chars: int = MAX_TEXT_CHARS
    ) -> list[MolmoPoint]:
        """Where `query` is on `image`, in its pixels (x right, y down); empty when the model finds none."""
        return self.ask_point(image, query, max_points, max_text_chars).points
