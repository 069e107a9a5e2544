"""``onnx``: an operator-supplied detection model run by ONNX Runtime.

Providers: TensorRT, then CUDA, then the CPU, whichever this ONNX Runtime build offers
(``onnxruntime-gpu`` has the first two), or the list in ``ANALYSIS_OBJECT_PROVIDERS``.

Input: the model's first input, ``[batch, 3, H, W]`` float RGB in 0..1; each region is
letterboxed (aspect kept, centred, grey 114 borders) to ``H x W`` (from the model, or
``ANALYSIS_OBJECT_INPUT_SIZE`` when they are dynamic). Regions of several cameras go in
one call when the batch dimension is dynamic (one call per region otherwise).

Output layouts (the model's first output), see ``ai-analysis-service/README.md``:

- ``yolo-obj`` ``[batch, N, 5 + C]``: ``cx, cy, w, h`` (input pixels), objectness, C class
  scores; score = objectness x best class (YOLOv5/YOLOv7/YOLOX-style exports, the test
  model);
- ``yolo`` ``[batch, 4 + C, N]`` or ``[batch, N, 4 + C]``: ``cx, cy, w, h``, C class scores
  (YOLOv8/YOLO11-style exports without NMS, and other anchor-free heads exported alike).

``auto`` takes the ``layout`` metadata of the model, else infers it from C (the number of
labels). Labels come from ``ANALYSIS_OBJECT_LABELS``, else the model's ``labels`` (a JSON
list) or ``names`` (a ``{0: 'person', …}`` dict) metadata. NMS per class follows.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from argus_analysis.detect.object_base import (
    Detection,
    ObjectDetector,
    ObjectDetectorUnavailable,
    nms,
)
from argus_analysis.objects.regions import PAD_VALUE, letterbox_geometry

Layout = Literal["auto", "yolo-obj", "yolo"]
PREFERRED = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
SCORE_FLOOR = 0.2  # candidates below this are dropped before NMS


def choose_providers(available: Sequence[str], requested: Sequence[str] = ()) -> list[str]:
    """``requested`` (all must be available), or the best of ``PREFERRED`` available."""
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise ObjectDetectorUnavailable(
                f"ANALYSIS_OBJECT_PROVIDERS names {', '.join(missing)}, not in this ONNX "
                f"Runtime ({', '.join(available)})"
            )
        return list(requested)
    chosen = [p for p in PREFERRED if p in available]
    return chosen or ["CPUExecutionProvider"]


def _labels_from(meta: dict[str, str]) -> list[str]:
    if "labels" in meta:
        labels = json.loads(meta["labels"])
        return [str(x) for x in labels]
    if "names" in meta:  # {0: 'person', 1: 'bicycle', …}: a Python literal, not JSON
        names = ast.literal_eval(meta["names"])
        return [str(names[k]) for k in sorted(names)]
    return []


def letterbox_into(image: np.ndarray, canvas: np.ndarray,
                   shrink: int = cv2.INTER_LINEAR) -> tuple[float, int, int]:
    """``image`` (BGR) fitted into ``canvas`` (``H x W x 3`` uint8, reused between calls:
    only the borders are painted), with the scale and the offsets to map boxes back.
    Bilinear, as YOLO-family models are trained; ``shrink`` (e.g. ``cv2.INTER_AREA``, less
    aliasing) when it shrinks by more than half. Area averaging costs 7-10 times bilinear at
    these sizes (230-480 us against 33-43 us per region here), a third of the 0.55 ms test
    model's inference. The test model is trained on crops made by this function
    (``models/train_sim_detector.py``); its predecessor, trained on area-averaged crops,
    found the same objects either way (test_objects_detect's scene, 99 frames: precision
    0.981, recall 0.875 with both)."""
    h, w = image.shape[:2]
    ch, cw = canvas.shape[:2]
    scale, px, py = letterbox_geometry(w, h, (cw, ch))
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas[:py] = PAD_VALUE
    canvas[py + nh :] = PAD_VALUE
    canvas[py : py + nh, :px] = PAD_VALUE
    canvas[py : py + nh, px + nw :] = PAD_VALUE
    cv2.resize(image, (nw, nh), dst=canvas[py : py + nh, px : px + nw],
               interpolation=shrink if scale < 0.5 else cv2.INTER_LINEAR)
    return scale, px, py


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, int, int]:
    """``image`` letterboxed into a new ``size`` (width, height) canvas (see
    ``letterbox_into``)."""
    canvas = np.empty((size[1], size[0], 3), np.uint8)
    return (canvas, *letterbox_into(image, canvas))


_TO_UNIT = np.float32(1.0 / 255.0)
_RGB_PLANES = [2, 0, 1, 1, 0, 2]  # mixChannels pairs: B G R (HWC) -> R G B planes


class BlobBuffers:
    """Reused input buffers of up to ``batch`` images: BGR canvases (``[B, H, W, 3]``
    uint8), their RGB planes (``[B, 3, H, W]`` uint8) and the model's input (``[B, 3, H,
    W]`` float32 in 0..1). Filling them costs a resize, one channel shuffle and one
    multiply per image, with no allocation (a fresh stack + transpose + cast cost as much
    as the test model's inference). ``shrink``: see ``letterbox_into``."""

    def __init__(self, size: tuple[int, int], shrink: int = cv2.INTER_LINEAR) -> None:
        self.size = size
        self.shrink = shrink
        self._allocate(0)

    def _allocate(self, batch: int) -> None:
        w, h = self.size
        self.canvases = np.empty((batch, h, w, 3), np.uint8)
        self.planes = np.empty((batch, 3, h, w), np.uint8)
        self.blob = np.empty((batch, 3, h, w), np.float32)

    def fill(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, int, int]]]:
        """The model input for ``images`` (a view of the reused buffer: valid until the
        next call) and each image's ``(scale, pad_x, pad_y)``."""
        n = len(images)
        if n > len(self.blob):  # grown to the largest batch seen, never shrunk
            self._allocate(n)
        geometry = []
        for j, image in enumerate(images):
            geometry.append(letterbox_into(image, self.canvases[j], self.shrink))
            p = self.planes[j]
            cv2.mixChannels([self.canvases[j]], [p[0], p[1], p[2]], _RGB_PLANES)
        blob = self.blob[:n]
        np.multiply(self.planes[:n], _TO_UNIT, out=blob)  # float32(x) * float32(1/255)
        return blob, geometry


def to_blob(canvases: Sequence[np.ndarray]) -> np.ndarray:
    """BGR canvases to the model's input: ``[N, 3, H, W]`` RGB float 0..1 (a new array)."""
    h, w = canvases[0].shape[:2]
    planes = np.ascontiguousarray(np.stack(canvases)[..., ::-1].transpose(0, 3, 1, 2))
    blob = np.empty((len(canvases), 3, h, w), np.float32)
    np.multiply(planes, _TO_UNIT, out=blob)
    return blob


class OnnxDetector(ObjectDetector):
    """A YOLO-layout model file run by ONNX Runtime."""

    name = "onnx"

    def __init__(
        self, model: Path, *, labels: Sequence[str] = (), layout: Layout = "auto",
        providers: Sequence[str] = (), input_size: int = 640, threads: int = 1,
        max_batch: int = 16,
    ) -> None:
        if not model.is_file():
            raise ObjectDetectorUnavailable(f"ANALYSIS_OBJECT_MODEL={model}: no such file")
        import onnxruntime as ort  # imported here: only this detector needs it

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        chosen = choose_providers(ort.get_available_providers(), providers)
        try:
            self.session = ort.InferenceSession(str(model), options, providers=chosen)
        except Exception as exc:  # a corrupt or foreign file: say which setting
            raise ObjectDetectorUnavailable(
                f"ANALYSIS_OBJECT_MODEL={model}: ONNX Runtime cannot load it ({exc})"
            ) from None
        self.provider = self.session.get_providers()[0]
        meta = dict(self.session.get_modelmeta().custom_metadata_map)
        self.labels = tuple(labels) or tuple(_labels_from(meta))
        if not self.labels:
            raise ObjectDetectorUnavailable(
                f"ANALYSIS_OBJECT_MODEL={model} names no labels: set ANALYSIS_OBJECT_LABELS"
            )
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape: list[Any] = list(inp.shape)
        h = shape[2] if isinstance(shape[2], int) else input_size
        w = shape[3] if isinstance(shape[3], int) else input_size
        self.size = (int(w), int(h))
        self.max_batch = 1 if isinstance(shape[0], int) else max(1, max_batch)
        wanted = layout if layout != "auto" else meta.get("layout", "auto")
        self.layout: Layout = wanted if wanted in ("yolo-obj", "yolo") else "auto"
        self._buffers = BlobBuffers(self.size)

    def _rows(self, out: np.ndarray) -> np.ndarray:
        """``[B, N, K]`` rows of a batch's output, whatever the layout's orientation."""
        c = len(self.labels)
        if out.ndim != 3:
            raise ValueError(f"unexpected output shape {out.shape[1:]}")
        if out.shape[1] in (4 + c, 5 + c) and out.shape[2] not in (4 + c, 5 + c):
            out = out.transpose(0, 2, 1)  # [4 + C, N] (YOLOv8-style): a column per candidate
        if self.layout == "auto":
            self.layout = "yolo-obj" if out.shape[2] == 5 + c else "yolo"
        return out

    def _decode(self, out: np.ndarray, scale: float, px: int, py: int) -> list[Detection]:
        """The detections of one image's output (``[N, K]`` or ``[K, N]``)."""
        return self._decode_batch(out[np.newaxis], [(scale, px, py)])[0]

    def _decode_batch(self, out: np.ndarray,
                      geometry: Sequence[tuple[float, int, int]]) -> list[list[Detection]]:
        """The detections of each image of a batch's output, boxes mapped back through
        each image's ``(scale, pad_x, pad_y)``; the whole batch is scored at once."""
        rows = self._rows(out)
        first = 5 if self.layout == "yolo-obj" else 4
        cls = rows[:, :, first:]
        best = cls.argmax(axis=2)
        scores = np.take_along_axis(cls, best[:, :, np.newaxis], axis=2)[:, :, 0]
        if self.layout == "yolo-obj":
            scores = rows[:, :, 4] * scores
        found: list[list[Detection]] = [[] for _ in geometry]
        img, idx = np.nonzero(scores >= SCORE_FLOOR)
        if len(img):
            # float64, in the order of operations of the per-candidate formula
            xywh = rows[img, idx, :4].astype(np.float64)
            geo = np.array(geometry, np.float64)[img]
            scale, px, py = geo[:, 0], geo[:, 1], geo[:, 2]
            x = (xywh[:, 0] - xywh[:, 2] / 2 - px) / scale
            y = (xywh[:, 1] - xywh[:, 3] / 2 - py) / scale
            w, h = xywh[:, 2] / scale, xywh[:, 3] / scale
            n = len(self.labels)
            for k, (j, i) in enumerate(zip(img.tolist(), idx.tolist(), strict=True)):
                b = int(best[j, i])
                label = self.labels[b] if b < n else str(b)
                found[j].append(Detection(label, round(float(scores[j, i]), 4),
                                          (float(x[k]), float(y[k]), float(w[k]), float(h[k]))))
        return [nms(f) for f in found]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        results: list[list[Detection]] = []
        for start in range(0, len(images), self.max_batch):
            blob, geometry = self._buffers.fill(images[start : start + self.max_batch])
            out = self.session.run(None, {self.input_name: blob})[0]
            results.extend(self._decode_batch(np.asarray(out), geometry))
        return results
