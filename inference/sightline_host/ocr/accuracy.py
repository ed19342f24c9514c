"""How well OCR lines match what a synthetic screen drew (`vision.synthetic.text_screen`): for benchmarks and tests.

Each drawn line is compared with the OCR lines lying mostly inside it (a detector may split a line in two), read
left to right, spaces ignored (PP-OCR drops the wide gaps of a menu bar)."""

from collections.abc import Sequence
from dataclasses import dataclass

from sightline_host.protocol.types import TextLine
from sightline_host.vision.synthetic import TextTruth


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _inside_share(line: TextLine, box: tuple[float, float, float, float], margin: float) -> float:
    """The share of the OCR line's box that lies inside the truth box grown by `margin`."""
    lb = line["box"]
    left, top = max(lb["x"], box[0] - margin), max(lb["y"], box[1] - margin)
    right = min(lb["x"] + lb["width"], box[0] + box[2] + margin)
    bottom = min(lb["y"] + lb["height"], box[1] + box[3] + margin)
    area = lb["width"] * lb["height"]
    return 0.0 if area <= 0 else max(0.0, right - left) * max(0.0, bottom - top) / area


@dataclass(frozen=True)
class Accuracy:
    lines: int  # drawn lines
    found: int  # drawn lines with at least one OCR line on them
    exact: int  # drawn lines read exactly (spaces ignored)
    char_accuracy: float  # 1 - edit distance / length, averaged over drawn lines (0 for one not found)
    stray: int  # OCR lines on no drawn line

    def as_dict(self) -> dict[str, float]:
        return {
            "lines": self.lines,
            "found": round(self.found / self.lines, 4),
            "exact": round(self.exact / self.lines, 4),
            "char_accuracy": round(self.char_accuracy, 4),
            "stray_lines": self.stray,
        }


def score_lines(lines: Sequence[TextLine], truth: Sequence[TextTruth]) -> Accuracy:
    used: set[int] = set()
    found = exact = 0
    total = 0.0
    for drawn in truth:
        margin = drawn.box[3] * 0.5
        mine = [i for i, line in enumerate(lines) if _inside_share(line, drawn.box, margin) >= 0.6]
        used.update(mine)
        want = drawn.text.replace(" ", "")
        if not mine:
            continue
        found += 1
        got = "".join(lines[i]["text"] for i in sorted(mine, key=lambda i: lines[i]["box"]["x"])).replace(" ", "")
        exact += got == want
        total += max(0.0, 1 - edit_distance(got, want) / len(want))
    return Accuracy(len(truth), found, exact, total / max(len(truth), 1), len(lines) - len(used))
