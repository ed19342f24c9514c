"""The in-process VLM engine and the Python API (describe, point) on a random-weight tiny LLaVA."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from sightline_host.planner.chat_types import ChatMessage, ChatRequest, EngineError, Usage
from sightline_host.vision.molmo_points import parse_points
from sightline_host.vlm.backends import molmo_prompt
from sightline_host.vlm.data_url import image_from_pixels
from sightline_host.vlm.loading import load_vlm
from sightline_host.vlm.point_grammar import MAX_TEXT_CHARS, NONE_ANSWER, max_answer_tokens, point_grammar
from sightline_host.vlm.screen import ScreenVlm, pointing_prompt
from sightline_host.vlm.transformers_engine import TransformersVlmEngine

_C = r"(?:100\.0|[0-9]{1,2}\.[0-9])"
_TEXT = rf"[^\"<>\x00-\x1f]{{1,{MAX_TEXT_CHARS}}}"
_LABEL = rf"[^<>\x00-\x1f]{{1,{MAX_TEXT_CHARS}}}"
# Molmo's point syntax written out independently of the grammar under test.
MOLMO_ANSWER = re.compile(
    rf'<point x="{_C}" y="{_C}" alt="{_TEXT}">{_LABEL}</point>'
    rf'|<points x1="{_C}" y1="{_C}"(?: x(\d+)="{_C}" y\1="{_C}")+ alt="{_TEXT}">{_LABEL}</points>'
    rf"|{re.escape(NONE_ANSWER)}"
)


@pytest.fixture(scope="module")
def engine(tiny_vlm_dir: Path) -> TransformersVlmEngine:
    loaded = load_vlm("tiny-llava", tiny_vlm_dir, {}, "cpu", context=2048)
    assert isinstance(loaded, TransformersVlmEngine)
    return loaded


def screenshot(width: int = 320, height: int = 200, button: tuple[int, int] = (240, 150)) -> Image.Image:
    image = Image.new("RGB", (width, height), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((button[0] - 30, button[1] - 12, button[0] + 30, button[1] + 12), fill=(40, 90, 200))
    return image


def run(engine: TransformersVlmEngine, request: ChatRequest) -> tuple[list[str], Usage, str | None]:
    usage = Usage()
    deltas = list(engine.stream(request, usage, lambda: False))
    return [d.text for d in deltas if d.text], usage, deltas[-1].finish_reason


def ask(prompt: str, image: Image.Image | None = None, **options: object) -> ChatRequest:
    images = (image_from_pixels(image),) if image else ()
    return ChatRequest([ChatMessage("user", prompt, images)], **options)  # type: ignore[arg-type]


def test_an_image_becomes_prompt_tokens_and_the_answer_streams(engine: TransformersVlmEngine) -> None:
    pieces, with_image, finish = run(engine, ask("Describe.", screenshot(), max_tokens=12))
    _, text_only, _ = run(engine, ask("Describe.", max_tokens=1))
    # Four patch tokens (28 px / 14 px, squared) and the template's line break after them.
    assert with_image.prompt_tokens - text_only.prompt_tokens >= 4
    assert with_image.completion_tokens == 12 and finish == "length"
    assert len(pieces) > 1


def test_greedy_answers_repeat_and_seeds_steer_sampling(engine: TransformersVlmEngine) -> None:
    image = screenshot()
    greedy = [run(engine, ask("Describe.", image, max_tokens=10))[0] for _ in range(2)]
    assert greedy[0] == greedy[1]
    sampled = [run(engine, ask("Describe.", image, max_tokens=10, temperature=1.0, seed=s))[0] for s in (1, 1, 2)]
    assert sampled[0] == sampled[1] and sampled[0] != sampled[2]


def test_a_json_schema_holds_even_for_random_weights(engine: TransformersVlmEngine) -> None:
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string", "maxLength": 8}, "x": {"type": "integer"}},
        "required": ["label", "x"],
        "additionalProperties": False,
    }
    request = ask("Where?", screenshot(), max_tokens=60, json_schema=schema, temperature=1.0, seed=5)
    pieces, _, finish = run(engine, request)
    answer = json.loads("".join(pieces))
    assert set(answer) == {"label", "x"} and finish == "stop"


def test_a_stop_string_ends_the_answer_before_it(engine: TransformersVlmEngine) -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}
    pieces, usage, finish = run(engine, ask("Where?", screenshot(), max_tokens=40, json_schema=schema, stop=['"']))
    assert "".join(pieces) == "{" and finish == "stop"
    assert usage.completion_tokens < 40


def test_a_cancelled_request_stops_generating(engine: TransformersVlmEngine) -> None:
    usage = Usage()
    seen: list[str] = []
    for delta in engine.stream(ask("Describe.", screenshot(), max_tokens=200), usage, lambda: len(seen) >= 2):
        seen.append(delta.text)
    assert usage.completion_tokens < 20


def test_a_prompt_and_answer_longer_than_the_context_is_refused(tiny_vlm_dir: Path) -> None:
    small = load_vlm("tiny-llava", tiny_vlm_dir, {}, "cpu", context=64)
    with pytest.raises(EngineError) as refused:
        list(small.stream(ask("Describe.", screenshot(), max_tokens=60), Usage(), lambda: False))
    assert refused.value.code == "context_length_exceeded" and "the image's included" in str(refused.value)


def test_pointing_answers_are_molmo_syntax_inside_the_image(engine: TransformersVlmEngine) -> None:
    vlm = ScreenVlm(engine)
    image = screenshot(320, 200)
    answer = vlm.ask_point(image, "the Save button", max_points=3, max_text_chars=12)
    assert MOLMO_ANSWER.fullmatch(answer.text), answer.text
    assert answer.points == parse_points(answer.text, 320, 200)
    # point() is the same greedy answer's points, for an image given as an array.
    assert vlm.point(np.asarray(image), "the Save button", max_points=3, max_text_chars=12) == answer.points
    # Sampled answers: each one in the syntax, each point inside the image, and points do come out.
    found = 0
    for seed in range(4):
        request = ChatRequest(
            [ChatMessage("user", pointing_prompt("the Save button"), (image_from_pixels(image),))],
            max_tokens=max_answer_tokens(3, 12),
            temperature=1.0,
            seed=seed,
            grammar=point_grammar(3, 12),
        )
        text = "".join(run(engine, request)[0])
        assert MOLMO_ANSWER.fullmatch(text), text
        points = parse_points(text, 320, 200)
        assert all(0 <= p.x <= 320 and 0 <= p.y <= 200 for p in points)
        assert len(points) <= 3 and (points == []) == (text == NONE_ANSWER)
        found += len(points)
    assert found > 0


def test_the_full_length_answer_is_never_cut_off(engine: TransformersVlmEngine) -> None:
    # Random weights run alt text and label to their full 60 characters, often of multi-byte characters.
    answer = ScreenVlm(engine).ask_point(screenshot(160, 100), "the Save button", max_points=2)
    assert MOLMO_ANSWER.fullmatch(answer.text), answer.text
    assert all(0 <= p.x <= 160 and 0 <= p.y <= 100 for p in answer.points)


def test_describe_returns_the_models_words(engine: TransformersVlmEngine) -> None:
    text = ScreenVlm(engine).describe(np.asarray(screenshot()), "Describe.", max_tokens=8)
    assert text == "".join(run(engine, ask("Describe.", screenshot(), max_tokens=8))[0]).strip()


def test_pointing_prompts_follow_molmo() -> None:
    assert pointing_prompt("the Save icon") == "Point to the Save icon"
    assert pointing_prompt("point to the Save icon") == "point to the Save icon"
    with pytest.raises(ValueError, match="empty"):
        pointing_prompt("  ")


def test_molmo_prompts_put_the_system_text_first_and_keep_the_turns() -> None:
    assert molmo_prompt([ChatMessage("user", "Describe.")]) == "Describe."
    messages = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "What is open?"),
        ChatMessage("assistant", "A text editor."),
        ChatMessage("user", "Point to Save"),
    ]
    assert molmo_prompt(messages) == "Be brief. What is open? Assistant: A text editor. User: Point to Save"
    with pytest.raises(EngineError, match="user message"):
        molmo_prompt([ChatMessage("system", "Be brief.")])
