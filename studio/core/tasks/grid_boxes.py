"""The one-stage grid detector's numbers (keras.ops, every backend): loss, a logged metric, decoding, NMS.

The model outputs a (G, G, classes + 4) grid of raw values (a last 1x1 Conv2D, no activation). The
cell holding a box's centre is responsible for it (as in YOLO): its ``classes`` values are class
logits (sigmoid: several classes may be present across the grid), then 2 logits of the centre's
place inside the cell and 2 of the box's width and height as fractions of the image (all sigmoid).
Targets are (max_boxes, 5) rows ``[x0, y0, x1, y1, class]`` per image, class -1 for an unused row.
"""

from __future__ import annotations

BOX_VALUES = 4
FOCAL_ALPHA, FOCAL_GAMMA = 0.25, 2.0  # RetinaNet's focal loss: the many empty cells weigh little
MAX_CANDIDATES = 100  # (cell, class) pairs kept by score before NMS
SCORE_THRESHOLD = 0.05  # detections below are dropped (COCO evaluations keep low scores)
IOU_THRESHOLD = 0.5  # NMS: a box overlapping a higher-scored one of its class more than this is dropped
SURE = 0.3  # detections at least this sure are drawn and counted (focal loss keeps scores modest)


def _grid_targets(y_true, grid_h: int, grid_w: int, classes: int):
    """Per cell: the class heat (B, G*G, classes), box targets (B, G*G, 4) in the output's form, and
    whether a box is assigned to it (B, G*G)."""
    from keras import ops

    boxes, label = ops.cast(y_true[..., :4], "float32"), ops.cast(y_true[..., 4], "float32")
    valid = ops.cast(label >= 0, "float32")
    cx, cy = (boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2
    col = ops.clip(ops.floor(cx * grid_w), 0, grid_w - 1)
    row = ops.clip(ops.floor(cy * grid_h), 0, grid_h - 1)
    cells = grid_h * grid_w
    cell_hot = ops.one_hot(ops.cast(row * grid_w + col, "int32"), cells) * valid[..., None]  # (B, M, cells)
    class_hot = ops.one_hot(ops.cast(ops.maximum(label, 0), "int32"), classes)  # (B, M, classes)
    heat = ops.max(cell_hot[..., None] * class_hot[:, :, None, :], axis=1)
    params = ops.stack([cx * grid_w - col, cy * grid_h - row, boxes[..., 2] - boxes[..., 0],
                        boxes[..., 3] - boxes[..., 1]], axis=-1)  # (B, M, 4)
    count = ops.sum(cell_hot, axis=1)  # boxes per cell (two centres in one cell: their mean)
    target = ops.einsum("bmc,bmk->bck", cell_hot, params) / ops.maximum(count, 1.0)[..., None]
    return heat, target, ops.minimum(count, 1.0)


def _split(y_pred):
    """The output grid flattened to (B, G*G, channels), its grid size and class count."""
    from keras import ops

    grid_h, grid_w, channels = (int(d) for d in y_pred.shape[1:])
    flat = ops.reshape(ops.cast(y_pred, "float32"), (-1, grid_h * grid_w, channels))
    return flat, grid_h, grid_w, channels - BOX_VALUES


def detection_loss(y_true, y_pred):
    """Focal loss of the class logits of every cell plus the L1 error (in cell units) of the box of each
    responsible cell, per image, divided by its number of boxes."""
    from keras import ops

    flat, grid_h, grid_w, classes = _split(y_pred)
    heat, target, positive = _grid_targets(y_true, grid_h, grid_w, classes)
    logits = flat[..., :classes]
    probability = ops.sigmoid(logits)
    cross_entropy = ops.maximum(logits, 0) - logits * heat + ops.log1p(ops.exp(-ops.abs(logits)))
    p_true = probability * heat + (1 - probability) * (1 - heat)
    alpha = FOCAL_ALPHA * heat + (1 - FOCAL_ALPHA) * (1 - heat)
    focal = ops.sum(alpha * (1 - p_true) ** FOCAL_GAMMA * cross_entropy, axis=(1, 2))
    predicted = ops.sigmoid(flat[..., classes:])
    scale = ops.convert_to_tensor([1.0, 1.0, float(grid_w), float(grid_h)])  # sizes measured in cells too
    box = ops.sum(positive[..., None] * ops.abs(predicted - target) * scale, axis=(1, 2))
    return (focal + box) / ops.maximum(ops.sum(positive, axis=1), 1.0)


def object_recall(y_true, y_pred):
    """Share of the true boxes whose cell gives their class a probability of at least ``SURE``."""
    from keras import ops

    flat, grid_h, grid_w, classes = _split(y_pred)
    heat, _target, _positive = _grid_targets(y_true, grid_h, grid_w, classes)
    found = ops.sum(heat * ops.cast(ops.sigmoid(flat[..., :classes]) >= SURE, "float32"), axis=(1, 2))
    return found / ops.maximum(ops.sum(heat, axis=(1, 2)), 1.0)


def decode(outputs, max_candidates: int = MAX_CANDIDATES, score_threshold: float = SCORE_THRESHOLD,
           iou_threshold: float = IOU_THRESHOLD):
    """Detections from raw (B, G, G, classes + 4) outputs, after per-class non-maximum suppression.

    Args:
        outputs: the model's raw outputs (a tensor or numpy array).
        max_candidates: the (cell, class) pairs with the highest scores that are considered.
        score_threshold: candidates scoring below are dropped.
        iou_threshold: NMS drops a box overlapping a kept box of its class by more than this.

    Returns:
        ``(boxes (B, K, 4) [x0, y0, x1, y1] fractions, scores (B, K), classes (B, K) int32)`` as
        tensors, best first; a dropped candidate has score 0.
    """
    from keras import ops

    flat, grid_h, grid_w, classes = _split(ops.convert_to_tensor(outputs))
    cells = grid_h * grid_w
    where = ops.sigmoid(flat[..., classes:])
    rows, cols = ops.meshgrid(ops.arange(grid_h, dtype="float32"), ops.arange(grid_w, dtype="float32"),
                              indexing="ij")
    cx = (ops.reshape(cols, (1, cells)) + where[..., 0]) / grid_w
    cy = (ops.reshape(rows, (1, cells)) + where[..., 1]) / grid_h
    half_w, half_h = where[..., 2] / 2, where[..., 3] / 2
    boxes = ops.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)
    scores, index = ops.top_k(ops.reshape(ops.sigmoid(flat[..., :classes]), (-1, cells * classes)),
                              min(max_candidates, cells * classes))
    cell, label = index // classes, index % classes
    boxes = ops.take_along_axis(boxes, ops.repeat(cell[..., None], 4, axis=-1), axis=1)
    keep = nms(boxes, scores, label, score_threshold, iou_threshold)
    return boxes, scores * keep, ops.cast(label, "int32")


def nms(boxes, scores, classes, score_threshold: float = SCORE_THRESHOLD, iou_threshold: float = IOU_THRESHOLD):
    """Greedy per-class non-maximum suppression of candidates sorted best first.

    Args:
        boxes: (B, K, 4) ``[x0, y0, x1, y1]``.
        scores: (B, K), descending along K.
        classes: (B, K) class of each candidate; boxes of different classes never suppress each other.
        score_threshold: candidates below are never kept.
        iou_threshold: a candidate overlapping a kept one of its class by more than this is dropped.

    Returns:
        (B, K) float32: 1 for each kept candidate, else 0.
    """
    from keras import ops

    count = int(boxes.shape[1])
    overlaps = pairwise_iou(boxes)
    same = ops.cast(ops.equal(classes[:, :, None], classes[:, None, :]), "float32")
    clash = ops.cast(overlaps > iou_threshold, "float32") * same  # (B, K, K)
    valid = ops.cast(scores >= score_threshold, "float32")

    def step(i, keep):
        hit = ops.max(ops.take(clash, i, axis=1) * keep, axis=1)  # overlaps a box kept before it
        return keep + ops.one_hot(i, count)[None, :] * (ops.take(valid, i, axis=1) * (1 - hit))[:, None]

    return ops.fori_loop(0, count, step, ops.zeros_like(valid))


def pairwise_iou(boxes):
    """(B, K, K) intersection over union of every pair of (B, K, 4) boxes."""
    from keras import ops

    a, b = boxes[:, :, None, :], boxes[:, None, :, :]
    width = ops.maximum(ops.minimum(a[..., 2], b[..., 2]) - ops.maximum(a[..., 0], b[..., 0]), 0.0)
    height = ops.maximum(ops.minimum(a[..., 3], b[..., 3]) - ops.maximum(a[..., 1], b[..., 1]), 0.0)
    area = ops.maximum(boxes[..., 2] - boxes[..., 0], 0.0) * ops.maximum(boxes[..., 3] - boxes[..., 1], 0.0)
    overlap = width * height
    return overlap / (area[:, :, None] + area[:, None, :] - overlap + 1e-7)
