"""Molmo's point syntax as a grammar: answers Molmo really writes pass it, malformed or out-of-image ones do not,
and whatever passes it parses into points inside the image."""

from __future__ import annotations

import llguidance
import pytest

from sightline_host.vision.molmo_points import parse_points
from sightline_host.vlm.point_grammar import MAX_POINTS, NONE_ANSWER, max_answer_tokens, point_grammar
from tests.test_vlm_tiny_model import tiny_tokenizer

# As Molmo-7B-D writes them (olmo's `points_to_text`: one decimal, percent of the image, several points numbered).
MOLMO_ANSWERS = [
    '<point x="61.5" y="47.7" alt="Save button">Save button</point>',
    '<point x="8.2" y="3.1" alt="File menu">File menu</point>',
    '<points x1="12.3" y1="4.0" x2="40.0" y2="4.0" x3="87.5" y3="95.2" alt="tabs">tabs</points>',
    '<point x="100.0" y="0.0" alt="the close button (×)">the close button (×)</point>',
    NONE_ANSWER,
]
NOT_IN_THE_GRAMMAR = [
    '<point x="120.0" y="5.0" alt="a">a</point>',  # outside the image
    '<point x="61.52" y="47.7" alt="a">a</point>',  # two decimals
    '<point x="61.5" y="47.7" alt="Save">Save',  # never closed
    '<points x1="1.0" y1="1.0" x3="2.0" y3="2.0" alt="a">a</points>',  # numbering skips
    '<point x="61.5" y="47.7" alt="a">a</point> and more',  # text after the answer
    "The Save button is at the top right.",
]


@pytest.fixture(scope="module")
def lltokenizer() -> llguidance.LLTokenizer:
    from llguidance.hf import from_tokenizer  # noqa: PLC0415

    return from_tokenizer(tiny_tokenizer())


def accepts(tokenizer: llguidance.LLTokenizer, grammar: str, text: str) -> bool:
    matcher = llguidance.LLMatcher(tokenizer, llguidance.LLMatcher.grammar_from_lark(grammar), log_level=0)
    tokens = tokenizer.tokenize_str(text)
    return matcher.try_consume_tokens(tokens) == len(tokens) and matcher.is_accepting()


@pytest.mark.parametrize("answer", MOLMO_ANSWERS)
def test_answers_molmo_writes_are_in_the_grammar(lltokenizer: llguidance.LLTokenizer, answer: str) -> None:
    assert accepts(lltokenizer, point_grammar(), answer)
    points = parse_points(answer, 1920, 1080)
    assert (points == []) == (answer == NONE_ANSWER)
    assert all(0 <= p.x <= 1920 and 0 <= p.y <= 1080 for p in points)


@pytest.mark.parametrize("answer", NOT_IN_THE_GRAMMAR)
def test_malformed_answers_are_not(lltokenizer: llguidance.LLTokenizer, answer: str) -> None:
    assert not accepts(lltokenizer, point_grammar(), answer)


def test_the_point_count_is_bounded(lltokenizer: llguidance.LLTokenizer) -> None:
    three = '<points x1="1.0" y1="1.0" x2="2.0" y2="2.0" x3="3.0" y3="3.0" alt="a">a</points>'
    assert accepts(lltokenizer, point_grammar(3), three)
    assert not accepts(lltokenizer, point_grammar(2), three)
    assert accepts(lltokenizer, point_grammar(1), '<point x="1.0" y="1.0" alt="a">a</point>')
    assert not accepts(lltokenizer, point_grammar(1), three)
    with pytest.raises(ValueError, match="at least one point"):
        point_grammar(0)
    assert accepts(lltokenizer, point_grammar(1, 3), '<point x="1.0" y="1.0" alt="abc">abc</point>')
    assert not accepts(lltokenizer, point_grammar(1, 3), '<point x="1.0" y="1.0" alt="abcd">abcd</point>')


def test_the_longest_answer_fits_the_token_budget(lltokenizer: llguidance.LLTokenizer) -> None:
    pairs = "".join(f' x{i}="100.0" y{i}="100.0"' for i in range(1, MAX_POINTS + 1))
    # Four-byte characters, which a byte-level tokenizer may spend four tokens on.
    longest = f'<points{pairs} alt="{"😀" * 60}">{"😀" * 60}</points>'
    assert accepts(lltokenizer, point_grammar(), longest)
    assert len(longest.encode()) == max_answer_tokens()
    assert len(lltokenizer.tokenize_str(longest)) <= max_answer_tokens()
    single = f'<point x="100.0" y="100.0" alt="{"😀" * 60}">{"😀" * 60}</point>'
    assert accepts(lltokenizer, point_grammar(1), single) and len(single.encode()) == max_answer_tokens(1)
