"""The text of a growing answer, decoded a few tokens at a time.

Decoding the whole answer again at every token keeps multi-token characters and merged spaces right, but costs
time in proportion to the answer, at every token: ~0.1-0.2 ms a token late in a 600-token plan, against a 2.4 ms
INT4 decode step. Here only a short window is decoded: the tokens since the last piece that came out whole, with
the piece before them in front, so that the tokenizer sees each new token in the context that shapes its text
(a leading space, a byte-level character split over tokens); the new text is what the window adds to that piece.
"""

from __future__ import annotations

from typing import Any

_INCOMPLETE = "\ufffd"  # what a tokenizer gives for half of a multi-byte character


class IncrementalText:
    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._start = 0  # the window's first token: the piece before the pending tokens
        self._pending = 0  # tokens from here on are not in `text` yet
        self.text = ""  # what the tokens up to `_pending` read as

    def add(self, token: int) -> bool:
        """Appends `token`; False while the answer ends in half of a character (the caller waits for the rest)."""
        self._ids.append(token)
        before = self._decode(self._ids[self._start : self._pending])
        now = self._decode(self._ids[self._start :])
        if now.endswith(_INCOMPLETE) or len(now) <= len(before):
            return not now.endswith(_INCOMPLETE)  # a token that adds no text (a special token) is complete
        self.text += now[len(before) :]
        self._start, self._pending = self._pending, len(self._ids)
        return True

    def whole(self) -> str:
        """The text with the pending tokens too, a half character included (for the end of the answer)."""
        before = self._decode(self._ids[self._start : self._pending])
        return self.text + self._decode(self._ids[self._start :])[len(before) :]

    def _decode(self, ids: list[int]) -> str:
        return str(self._tokenizer.decode(ids, skip_special_tokens=True)) if ids else ""
