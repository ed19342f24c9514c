"""A vlm whose context cannot hold the image and the longest pointing answer still points, with a smaller answer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from sightline_host.planner.chat_types import EngineError
from sightline_host.planner.registry import ChatModels
from sightline_host.point_request import answer_point
from sightline_host.protocol.types import Point
from sightline_host.vlm.loading import load_vlm
from sightline_host.vlm.screen import ScreenVlm
from tests.test_vlm_engine import screenshot

SHORT_CONTEXT = 512  # the tiny model's own: two points with 60-character labels do not fit beside the image


class OneVlm:
    """The two things answer_point asks of the host's models, over one real in-process vlm."""

    def __init__(self, vlm: ScreenVlm) -> None:
        self.vlm = vlm

    def serves_role(self, role: str) -> bool:
        return role == "vlm"

    def screen_vlm(self) -> ScreenVlm:
        return self.vlm


@pytest.fixture(scope="module")
def short_vlm(tiny_vlm_dir: Path) -> ScreenVlm:
    return ScreenVlm(load_vlm("tiny-llava", tiny_vlm_dir, {}, "cpu", SHORT_CONTEXT))


def test_the_full_answer_budget_does_not_fit_the_short_context(short_vlm: ScreenVlm) -> None:
    with pytest.raises(EngineError) as raised:
        short_vlm.ask_point(screenshot(), "the Save button", max_points=16)
    assert raised.value.code == "context_length_exceeded"


def test_a_point_request_falls_back_to_a_smaller_answer_and_points(short_vlm: ScreenVlm) -> None:
    request = cast(Point, {"type": "point", "id": "p1", "image": {}, "query": "the Save button", "max_points": 16})
    rgb = np.asarray(screenshot(), dtype=np.uint8)
    reply = answer_point(cast(ChatModels, OneVlm(short_vlm)), request, rgb, threading.Event())
    assert reply["type"] == "point_result", reply
    assert len(reply["points"]) <= 4
    assert all(0 <= p["x"] <= 320 and 0 <= p["y"] <= 200 for p in reply["points"])
