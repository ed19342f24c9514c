"""Seeing the screen: the UI detector (YOLO-World over ONNX Runtime), the merged element list, set-of-marks images
and Molmo's point syntax. Everything here is numpy and ONNX Runtime; PyTorch and Ultralytics are never imported at
run time."""
