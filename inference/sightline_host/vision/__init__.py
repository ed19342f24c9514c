"""Seeing the screen: the UI detector (YOLO-World over ONNX Runtime, or the same graph through PyTorch), the merged
element list, set-of-marks images and Molmo's point syntax. The host imports no PyTorch and no Ultralytics at run
time: PyTorch only when the detector's PyTorch backend is chosen, Ultralytics only in the build command (`export`)."""
