"""The WebSocket's `point` request answered by the vlm role: blocking work, run by the session in a worker thread.

Every way the vlm can be missing ends in one `model_unavailable` error that says what to do: no catalog, a
profile without a vlm (which profiles have one, and the pull command), or a vlm that is not downloaded yet (the
model store's own message, with the pull command).
"""

from __future__ import annotations

import threading
from typing import cast

import numpy as np
from numpy.typing import NDArray

from sightline_host.models.store import pull_command
from sightline_host.planner.chat_types import EngineError
from sightline_host.planner.registry import ChatModels
from sightline_host.protocol.types import (
    MAX_POINT_ANSWER_CHARS,
    MAX_POINT_LABEL_CHARS,
    MAX_POINTS_PER_ANSWER,
    ErrorMessage,
    ImagePoint,
    Point,
    PointResult,
)
from sightline_host.vision.molmo_points import MolmoPoint
from sightline_host.vlm.point_grammar import MAX_TEXT_CHARS

#: hello_ok's capability for a host whose profile has a vlm role.
POINT_CAPABILITY = "point"


def _error(request_id: str, code: str, message: str) -> ErrorMessage:
    return cast(ErrorMessage, {"type": "error", "id": request_id, "code": code, "message": message})


def no_vlm_message(chat: ChatModels | None) -> str:
    """Why this host cannot point, and what would make it: a profile with a vlm, then its pull command."""
    if chat is None:
        return "this host has no model catalog, so no vlm model to point with"
    elsewhere = chat.profiles_serving("vlm")
    if not elsewhere:
        return "no profile in this host's catalog has a vlm model to point with"
    choices = "; ".join(
        f"SIGHTLINE_PROFILE={profile} after `{pull_command(model)}`" for profile, model in sorted(elsewhere.items())
    )
    return f"this host's profile has no vlm model to point with; start it with a profile that has one: {choices}"


def _image_point(point: MolmoPoint) -> ImagePoint:
    # The tag's text names the target; Molmo's alt attribute says the same when the text is empty.
    label = (point.label or point.alt).strip()[:MAX_POINT_LABEL_CHARS]
    found: ImagePoint = {"x": point.x, "y": point.y}
    if label:
        found["label"] = label
    return found


#: The last resort: one point with a short label.
_SMALLEST_BUDGET = (1, 20)


def _budgets(max_points: int) -> list[tuple[int, int]]:
    """Answer budgets (points, label characters), largest first, ending with the smallest worth asking for."""
    steps = [(max_points, MAX_TEXT_CHARS), (min(max_points, 4), 40), _SMALLEST_BUDGET]
    return list(dict.fromkeys(steps))


def answer_point(
    chat: ChatModels | None, request: Point, rgb: NDArray[np.uint8], cancelled: threading.Event
) -> PointResult | ErrorMessage:
    """Loads the vlm on first use (slow: call off the event loop) and points at the request's query on `rgb`."""
    request_id = request["id"]
    if chat is None or not chat.serves_role("vlm"):
        return _error(request_id, "model_unavailable", no_vlm_message(chat))
    try:
        vlm = chat.screen_vlm()
        answer = None
        # The answer's token budget is the longest answer the grammar admits: a model with a short context may not
        # hold it beside the image, so ask for fewer points and shorter labels before giving up.
        for max_points, max_label in _budgets(request.get("max_points", MAX_POINTS_PER_ANSWER)):
            try:
                answer = vlm.ask_point(rgb, request["query"], max_points, max_label, cancelled=cancelled.is_set)
                break
            except EngineError as exc:
                if exc.code != "context_length_exceeded" or (max_points, max_label) == _SMALLEST_BUDGET:
                    raise
        assert answer is not None
    except EngineError as exc:
        # model_unavailable already names the pull (or pip) command; anything else is the model failing.
        code = "model_unavailable" if exc.code == "model_unavailable" else "internal"
        hint = "; give the vlm a longer context in the profile" if exc.code == "context_length_exceeded" else ""
        return _error(request_id, code, f"the vlm cannot point: {exc}{hint}")
    return {
        "type": "point_result",
        "id": request_id,
        "points": [_image_point(p) for p in answer.points[:MAX_POINTS_PER_ANSWER]],
        "text": answer.text[:MAX_POINT_ANSWER_CHARS],
        "image_width": int(rgb.shape[1]),
        "image_height": int(rgb.shape[0]),
    }
