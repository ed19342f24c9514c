"""What of a streamed answer may be sent yet, given the request's stop strings.

A stop string can arrive split over several tokens ("2" then "."): text that could still turn into one is held
back until the next token says either way, so no client ever receives a part of a stop string.
"""

from __future__ import annotations


def visible(text: str, stops: list[str]) -> tuple[str, bool]:
    """The part of `text` that may be sent, and whether a stop string ended it there."""
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    if found:
        return text[: min(found)], True
    held = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), held, -1):
            if text.endswith(stop[:size]):
                held = size
                break
    return text[: len(text) - held], False


class SentText:
    """What of a growing answer has been sent: each engine feeds it the whole answer so far and streams the rest."""

    def __init__(self, stops: list[str]) -> None:
        self._stops = stops
        self.sent = ""
        self.stopped = False  # a stop string ended the answer: nothing after it is ever sent

    def advance(self, answer: str) -> str:
        """The new text that may be sent now ("" if none)."""
        shown, self.stopped = visible(answer, self._stops)
        piece = shown[len(self.sent) :]
        self.sent = shown if piece else self.sent
        return piece

    def rest(self, answer: str) -> str:
        """At the end of the answer: the tail held back in case it began a stop string."""
        return "" if self.stopped else answer[len(self.sent) :]
