"""Non-maximum suppression in numpy: the detector's own, so no torch or torchvision is needed at run time."""

import numpy as np
from numpy.typing import NDArray


def iou_one_to_many(box: NDArray[np.float32], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    """IoU of one xyxy box against (N, 4) xyxy boxes."""
    inter_w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = inter_w * inter_h
    area = max(0.0, float(box[2] - box[0])) * max(0.0, float(box[3] - box[1]))
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def nms(boxes: NDArray[np.float32], scores: NDArray[np.float32], iou_threshold: float) -> NDArray[np.intp]:
    """Greedy NMS: indices of the boxes kept, highest score first."""
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    # Stable sort: equal scores keep their input order, so the result does not depend on the platform's sort.
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if order.size == 1:
            break
        rest = order[1:]
        order = rest[iou_one_to_many(boxes[best], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


def class_aware_nms(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], class_ids: NDArray[np.intp], iou_threshold: float
) -> NDArray[np.intp]:
    """NMS within each class only: a button and the icon inside it both survive."""
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    # Shifting each class to its own region of the plane makes boxes of different classes never overlap, so one
    # NMS pass does every class at once (the torchvision `batched_nms` trick).
    span = float(np.max(boxes)) - float(np.min(boxes)) + 1.0
    shifted = boxes + (class_ids.astype(np.float32) * span)[:, None]
    return nms(shifted, scores, iou_threshold)
