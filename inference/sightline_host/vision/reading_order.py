"""Reading order for boxes on a screen: top to bottom, left to right, one column at a time.

Recursive XY-cut with a preference for columns: a region whose boxes leave a wide vertical gutter from top to bottom
is read column by column; otherwise it is cut into horizontal bands at every empty row, and consecutive bands that
share a gutter are kept together (a sidebar beside a page is one region even under a full-width title bar).
A band with no gutter is one row, read left to right.
"""

from collections.abc import Sequence

Box = tuple[float, float, float, float]  # x, y, width, height


def _intervals(boxes: Sequence[Box], idx: list[int], axis: int, shrink: float) -> list[tuple[float, float, int]]:
    out = []
    for i in idx:
        start, length = boxes[i][axis], boxes[i][axis + 2]
        # Shrinking by a little lets boxes that touch or overlap by a pixel or two still count as separate rows.
        inset = min(shrink, length * 0.25)
        out.append((start + inset, start + length - inset, i))
    return sorted(out)


def _split(boxes: Sequence[Box], idx: list[int], axis: int, min_gap: float, shrink: float) -> list[list[int]]:
    """Groups of `idx` separated by empty gaps of at least `min_gap` along `axis` (0 = x, 1 = y)."""
    groups: list[list[int]] = []
    reach = float("-inf")
    for start, end, i in _intervals(boxes, idx, axis, shrink):
        if groups and start - reach < min_gap:
            groups[-1].append(i)
        else:
            groups.append([i])
        reach = max(reach, end)
    return groups


def _has_gutter(boxes: Sequence[Box], idx: list[int], min_gutter: float, shrink: float) -> bool:
    return len(_split(boxes, idx, 0, min_gutter, shrink)) > 1


def reading_order(boxes: Sequence[Box], min_gutter: float | None = None, shrink: float = 2.0) -> list[int]:
    """Indices of `boxes` in reading order. `min_gutter` (pixels) is the narrowest empty vertical strip that
    separates columns; by default twice the median box height, so words of one row never count as columns."""
    if not boxes:
        return []
    if min_gutter is None:
        heights = sorted(b[3] for b in boxes)
        min_gutter = max(8.0, 2 * heights[len(heights) // 2])
    gutter = min_gutter

    def order(idx: list[int]) -> list[int]:
        if len(idx) <= 1:
            return idx
        columns = _split(boxes, idx, 0, gutter, shrink)
        if len(columns) > 1:
            return [i for column in columns for i in order(column)]
        bands = _split(boxes, idx, 1, 0.0, shrink)
        if len(bands) == 1:
            # One row whose items leave no wide gutter: left to right, then top to bottom for stacked items.
            return sorted(idx, key=lambda i: (boxes[i][0], boxes[i][1], i))
        regions: list[list[int]] = []
        for band in bands:
            if regions and _has_gutter(boxes, regions[-1] + band, gutter, shrink):
                regions[-1] = regions[-1] + band
            else:
                regions.append(band)
        # Every region is strictly smaller than `idx` (the whole had no gutter), so this terminates.
        return [i for region in regions for i in order(region)]

    return order(list(range(len(boxes))))
