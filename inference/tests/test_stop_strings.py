"""Stop strings that arrive split over tokens are never sent in part."""

from __future__ import annotations

import pytest

from sightline_host.planner.stop_strings import visible


@pytest.mark.parametrize(
    ("text", "stops", "expected"),
    [
        ("1. one\n2", ["2."], ("1. one\n", False)),  # "2" may begin "2." : held back
        ("1. one\n2.", ["2."], ("1. one\n", True)),
        ("1. one\n2 and", ["2."], ("1. one\n2 and", False)),  # it did not: released
        ("abc</s", ["</step>", "</s>"], ("abc", False)),  # the longest possible beginning is held
        ("a</step> b</s>", ["</s>", "</step>"], ("a", True)),  # the earliest stop wins
        ("plain", [], ("plain", False)),
        ("plain", [""], ("plain", False)),
    ],
)
def test_visible_text_holds_back_what_may_become_a_stop_string(
    text: str, stops: list[str], expected: tuple[str, bool]
) -> None:
    assert visible(text, stops) == expected
