"""Detection beyond the task itself: the R-CNN lesson (proposals -> crops -> a CNN classifier -> NMS)
compared with the one-stage detector. The task, its data, loss, decoding and scores live in
``studio.core.tasks`` and ``studio.core.data``."""
