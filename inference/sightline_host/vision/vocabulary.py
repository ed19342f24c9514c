"""The detector's vocabulary: the class names a model was exported with, and the element kind each one means."""

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast, get_args

# The element kinds are the protocol's: `ElementKind` in src-shared/bridge-api.ts, generated into
# sightline_host/protocol/types.py by `npm run gen:protocol`. Only the prompts and synonyms below are the detector's.
from sightline_host.protocol.types import ElementKind

__all__ = [
    "ELEMENT_KINDS",
    "UI_VOCABULARY",
    "ElementKind",
    "Vocabulary",
    "VocabularyMissing",
    "kind_of",
    "load_vocabulary",
    "names_from_ultralytics_metadata",
    "parse_vocabulary",
    "vocabulary_path",
]

ELEMENT_KINDS: tuple[ElementKind, ...] = get_args(ElementKind)

# The prompts YOLO-World is exported with (`kind_of` maps each to its element kind). CLIP embeds each phrase; the
# plainer and more common the phrase, the better its embedding matches what a screenshot shows, hence "radio button"
# rather than "radio".
UI_VOCABULARY: tuple[str, ...] = (
    "button",
    "icon",
    "text field",
    "checkbox",
    "radio button",
    "dropdown",
    "menu item",
    "tab",
    "link",
    "toggle switch",
    "slider",
    "scrollbar",
    "window control",
)

_SYNONYMS: Mapping[str, ElementKind] = {
    "radio_button": "radio",
    "toggle_switch": "toggle",
    "switch": "toggle",
    "text_box": "text_field",
    "textbox": "text_field",
    "input": "text_field",
    "input_field": "text_field",
    "search_box": "text_field",
    "combo_box": "dropdown",
    "combobox": "dropdown",
    "select": "dropdown",
    "hyperlink": "link",
    "scroll_bar": "scrollbar",
    "window_button": "window_control",
    "close_button": "window_control",
}


def kind_of(label: str) -> ElementKind:
    """A class name → the element kind it stands for; a name outside the UI vocabulary is "other"."""
    key = "_".join(label.strip().lower().replace("-", " ").split())
    if key in ELEMENT_KINDS and key != "text":
        return cast(ElementKind, key)
    return _SYNONYMS.get(key, "other")


class VocabularyMissing(Exception):
    """No vocabulary for a model; the message says where it was looked for."""


@dataclass(frozen=True)
class Vocabulary:
    classes: tuple[str, ...]
    model_id: str
    revision: str | None = None

    @property
    def kinds(self) -> tuple[ElementKind, ...]:
        return tuple(kind_of(name) for name in self.classes)


def vocabulary_path(model_path: Path) -> Path:
    """Where the vocabulary of `model.onnx` lives: `model.vocabulary.json` beside it."""
    return model_path.with_name(model_path.stem + ".vocabulary.json")


def parse_vocabulary(data: object, default_model_id: str) -> Vocabulary:
    """Accepts `["button", …]` or `{"classes": [...], "model_id": "...", "revision": "..."}`."""
    if isinstance(data, list):
        classes, model_id, revision = data, default_model_id, None
    elif isinstance(data, dict) and isinstance(data.get("classes"), list):
        classes = data["classes"]
        model_id = str(data.get("model_id") or default_model_id)
        revision = None if data.get("revision") is None else str(data["revision"])
    else:
        raise VocabularyMissing('a vocabulary is a JSON list of class names or {"classes": [...]}')
    if not classes or not all(isinstance(c, str) and c.strip() for c in classes):
        raise VocabularyMissing("the vocabulary must name at least one class, each a non-empty string")
    return Vocabulary(tuple(classes), model_id, revision)


def names_from_ultralytics_metadata(metadata: Mapping[str, str]) -> list[str] | None:
    """Ultralytics writes `names` as a Python dict literal ("{0: 'button', 1: 'icon'}") into the ONNX metadata."""
    raw = metadata.get("names")
    if not raw:
        return None
    try:
        parsed = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return None
    if isinstance(parsed, dict) and all(isinstance(k, int) for k in parsed):
        return [str(parsed[i]) for i in sorted(parsed)]
    if isinstance(parsed, Sequence) and not isinstance(parsed, str):
        return [str(v) for v in parsed]
    return None


def load_vocabulary(model_path: Path, onnx_metadata: Mapping[str, str] | None = None) -> Vocabulary:
    """The vocabulary JSON beside the model, else the class names Ultralytics stored in the model itself."""
    path = vocabulary_path(model_path)
    if path.exists():
        try:
            return parse_vocabulary(json.loads(path.read_text("utf-8")), model_path.stem)
        except json.JSONDecodeError as error:
            raise VocabularyMissing(f"{path} is not valid JSON: {error}") from error
    names = names_from_ultralytics_metadata(onnx_metadata or {})
    if names:
        return Vocabulary(tuple(names), model_path.stem)
    raise VocabularyMissing(
        f"no vocabulary for {model_path}: write the class names, in the model's class order, to {path} "
        '(a JSON list, or {"classes": [...]}); `python -m sightline_host.vision.export` writes it for you'
    )
