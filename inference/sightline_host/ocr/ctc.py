"""Greedy CTC decoding of a recognizer's per-column best classes: repeats merged, blanks dropped."""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

BLANK = 0


class CtcDecoder:
    """`characters` are the model's classes after the blank: PP-OCR's dictionary, then a space as the last class."""

    def __init__(self, characters: Sequence[str]) -> None:
        self.classes = ["", *characters]

    @staticmethod
    def from_dictionary(dictionary: str) -> "CtcDecoder":
        """The decoder for a PP-OCR recognizer whose metadata holds its dictionary, one character a line."""
        return CtcDecoder([*dictionary.splitlines(), " "])

    def decode(self, best: NDArray[np.integer], prob: NDArray[np.floating]) -> list[tuple[str, float]]:
        """(text, mean probability of the kept columns) per row of (batch, columns) class indices and their
        probabilities; an empty text scores 0."""
        out: list[tuple[str, float]] = []
        for row, row_prob in zip(best, prob, strict=True):
            keep = row != BLANK
            keep[1:] &= row[1:] != row[:-1]
            kept = row[keep]
            if kept.size == 0:
                out.append(("", 0.0))
                continue
            text = "".join(self.classes[int(i)] for i in kept)
            out.append((text, float(np.mean(row_prob[keep], dtype=np.float64))))
        return out
