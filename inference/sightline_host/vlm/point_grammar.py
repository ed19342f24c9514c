"""Molmo's pointing syntax as a grammar, so that a pointing answer is always one that `parse_points` can read.

Why constrain at all: a trained Molmo writes this syntax by itself, but a model that was not trained on it (any
other image-text-to-text model, or random weights in tests) writes free text with no point in it. Decoding inside
this grammar makes the answer one of exactly three shapes, in Molmo's own format (percent of the image, one
decimal, several points numbered x1/y1, x2/y2 …):

    <point x="61.5" y="47.7" alt="Save button">Save button</point>
    <points x1="12.3" y1="4.0" x2="40.0" y2="4.0" alt="tabs">tabs</points>
    There are none.

The third is the way out: a model that does not see the target says so instead of being forced to invent a
point. Every coordinate the grammar admits lies inside the image (0.0 to 100.0), and the alt text and label are
bounded, so the longest answer has a known length in bytes (`max_answer_tokens`): every token writes at least one
byte, so a budget of that many tokens can never cut a tag in half.
"""

from __future__ import annotations

NONE_ANSWER = "There are none."
MAX_POINTS = 16
MAX_TEXT_CHARS = 60
_UTF8_MAX = 4  # bytes of the longest character

# "100.0" or one or two digits, a dot and one digit: Molmo's one-decimal percentages, never outside 0-100.
_COORD = r"/(100\.0|[0-9]{1,2}\.[0-9])/"


def _pair(index: int | None) -> str:
    suffix = "" if index is None else str(index)
    return rf'" x{suffix}=\"" COORD "\" y{suffix}=\"" COORD "\""'


def _more_pairs(index: int, max_points: int) -> str:
    # Points are numbered in order, so each optional pair nests the next one: x3 only after x2.
    if index > max_points:
        return ""
    return f"({_pair(index)} {_more_pairs(index + 1, max_points)})?"


def point_grammar(max_points: int = MAX_POINTS, max_text_chars: int = MAX_TEXT_CHARS) -> str:
    """The grammar (llguidance's Lark dialect) of a pointing answer with at most `max_points` points and alt text
    and label of at most `max_text_chars` characters each."""
    if max_points < 1 or max_text_chars < 1:
        raise ValueError("a pointing answer needs room for at least one point and one character of label")
    rules = [
        "start: point | points | none",
        rf'point: "<point" {_pair(None)} " alt=\"" ALT "\">" LABEL "</point>"',
        f"none: {NONE_ANSWER!r}".replace("'", '"'),
        f"COORD: {_COORD}",
        # The alt attribute cannot hold a quote; neither can hold a tag's angle brackets or a control character.
        f'ALT: /[^"<>\\x00-\\x1f]{{1,{max_text_chars}}}/',
        f"LABEL: /[^<>\\x00-\\x1f]{{1,{max_text_chars}}}/",
    ]
    if max_points > 1:
        pairs = f"{_pair(1)} {_pair(2)} {_more_pairs(3, max_points)}"
        rules.insert(2, rf'points: "<points" {pairs} " alt=\"" ALT "\">" LABEL "</points>"')
    else:
        rules[0] = "start: point | none"
    return "\n".join(rules) + "\n"


def max_answer_tokens(max_points: int = MAX_POINTS, max_text_chars: int = MAX_TEXT_CHARS) -> int:
    """The UTF-8 length of the longest answer the grammar admits, which bounds its tokens: each writes a byte or
    more (a byte-level tokenizer may spend one token per byte of a character)."""
    text_bytes = 2 * max_text_chars * _UTF8_MAX
    if max_points == 1:
        pairs = len(' x="100.0" y="100.0"')
        tag = len('<point alt="">') + text_bytes + len("</point>")
    else:
        pairs = sum(len(f' x{i}="100.0" y{i}="100.0"') for i in range(1, max_points + 1))
        tag = len('<points alt="">') + text_bytes + len("</points>")
    return max(tag + pairs, len(NONE_ANSWER))
