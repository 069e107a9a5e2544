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


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, int, int]:
    """``image`` (BGR) fitted into a ``size`` (width, height) BGR canvas, with the scale
    and the offsets to map boxes back. Bilinear unless it shrinks by more than half
    (area averaging then: less aliasing; it costs six times as much)."""
    h, w = image.shape[:2]
    scale, px, py = letterbox_geometry(w, h, size)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.full((size[1], size[0], 3), PAD_VALUE, np.uint8)
    cv2.resize(image, (nw, nh), dst=canvas[py : py + nh, px : px + nw],
               interpolation=cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR)
    return canvas, scale, px, py


def to_blob(canvases: Sequence[np.ndarray]) -> np.ndarray:
    """BGR canvases to the model's input: ``[N, 3, H, W]`` RGB float 0..1. (Plain numpy:
    ten times faster here than ``cv2.dnn.blobFromImages`` on the same canvases.)"""
    bgr = np.stack(canvases)[..., ::-1]
    blob: np.ndarray = np.ascontiguousarray(bgr.transpose(0, 3, 1, 2), dtype=np.float32)
    blob *= np.float32(1.0 / 255.0)
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

    def _rows(self, out: np.ndarray) -> np.ndarray:
        """``[N, K]`` rows of one image's output, whatever the layout's orientation."""
        c = len(self.labels)
        if out.ndim != 2:
            raise ValueError(f"unexpected output shape {out.shape}")
        if out.shape[0] in (4 + c, 5 + c) and out.shape[1] not in (4 + c, 5 + c):
            out = out.T  # [4 + C, N] (YOLOv8-style): one column per candidate
        if self.layout == "auto":
            self.layout = "yolo-obj" if out.shape[1] == 5 + c else "yolo"
        return out

    def _decode(self, out: np.ndarray, scale: float, px: int, py: int) -> list[Detection]:
        rows = self._rows(out)
        if self.layout == "yolo-obj":
            cls = rows[:, 5:]
            best = cls.argmax(axis=1)
            scores = rows[:, 4] * cls[np.arange(len(rows)), best]
        else:
            cls = rows[:, 4:]
            best = cls.argmax(axis=1)
            scores = cls[np.arange(len(rows)), best]
        keep = np.nonzero(scores >= SCORE_FLOOR)[0]
        found = []
        for i in keep:
            cx, cy, bw, bh = (float(v) for v in rows[i, :4])
            x = (cx - bw / 2 - px) / scale
            y = (cy - bh / 2 - py) / scale
            label = self.labels[int(best[i])] if int(best[i]) < len(self.labels) else str(best[i])
            found.append(Detection(label, round(float(scores[i]), 4),
                                   (x, y, bw / scale, bh / scale)))
        return nms(found)

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        results: list[list[Detection]] = []
        for start in range(0, len(images), self.max_batch):
            chunk = images[start : start + self.max_batch]
            boxed = [letterbox(img, self.size) for img in chunk]
            batch = to_blob([b[0] for b in boxed])
            out = self.session.run(None, {self.input_name: batch})[0]
            for j, (_, scale, px, py) in enumerate(boxed):
                results.append(self._decode(np.asarray(out[j]), scale, px, py))
        return results
