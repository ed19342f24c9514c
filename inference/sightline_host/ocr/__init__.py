"""Text lines on screen: PP-OCRv4 detection and recognition (the ONNX models inside the rapidocr-onnxruntime wheel,
no download), run by ONNX Runtime on the CPU or by PyTorch on a GPU, with this package's own pre- and
post-processing around them."""

from sightline_host.ocr.engine import ModelUnavailable, OcrEngine, OcrState

__all__ = ["ModelUnavailable", "OcrEngine", "OcrState"]
