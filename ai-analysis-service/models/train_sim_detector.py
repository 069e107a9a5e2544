"""Train the test model: a tiny person/vehicle detector for the camera simulator's scene,
exported to ONNX (``sim-detector.onnx``, committed beside this script).

It is what the ``onnx`` detector's tests run: real decoded simulator frames, scored
against the simulator's ground truth. It knows the simulator's drawn people and cars and
nothing else; it is not a model for real cameras (see the README for exporting one).

How it was run (torch is NOT a workspace dependency: a venv of its own, so that the
workspace's ``uv sync`` never removes it; torch 2.14.1 from PyPI, run on the CPU):

    uv venv /work/train-venv --python .venv/bin/python3
    uv pip install --python /work/train-venv/bin/python torch==2.14.1 onnx onnxscript \
        numpy "opencv-python-headless<5"
    PYTHONPATH=camera-simulator/src:ai-analysis-service/src:libs/argus-common/src \
        /work/train-venv/bin/python ai-analysis-service/models/train_sim_detector.py

The committed model (2026-12-06): defaults (1500 frames -> 2583 crops, 10 epochs, seed 7),
final loss 0.30, 7.5 minutes on the 2-core VM under a load average of 4-10 (3.5 minutes of
CPU). Its crops are letterboxed by the analyser's own ``letterbox_into`` (bilinear); the
model before it was trained on area-averaged crops (final loss 0.34). On
test_objects_detect's scene (99 frames): precision 0.989, recall 0.916 (before: 0.981,
0.879).

Data: frames rendered by the simulator's own ``Scene`` (random PTZ views of the four
panoramas, random people and cars of every colour and size, sometimes the ``--motion``
squares as things that are neither), degraded like a stream (blur, noise, JPEG), then cut
into crops with ``argus_analysis.objects.regions`` exactly as the analyser cuts motion
regions, letterboxed to 160 x 160.

Model: five strided 3x3 convolutions to a 10 x 10 grid (stride 16); each cell predicts
one object whose centre falls in it. The exported graph decodes its own output to the
layout ``yolo-obj``: ``[batch, 100, 5 + 2]`` rows of ``cx, cy, w, h`` (input pixels),
objectness and per-class scores (already sigmoid). Input ``images`` ``[batch, 3, 160,
160]`` RGB float in 0..1.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from argus_analysis.detect.onnx import letterbox_into
from argus_analysis.objects.regions import plan_regions
from argus_camsim.model import CameraInfo
from argus_camsim.objects import COLOURS
from argus_camsim.scene import Scene

LABELS = ["person", "vehicle"]
SIZE = 160
STRIDE = 16
GRID = SIZE // STRIDE
OUT = Path(__file__).with_name("sim-detector.onnx")


def render_sample(rng: random.Random, scenes: list[Scene]) -> tuple[np.ndarray, list[tuple]]:
    """One degraded BGR frame and its boxes ``(label_index, x, y, w, h)`` in pixels."""
    scene = rng.choice(scenes)
    cam = scene.camera
    width, height = rng.choice([(640, 360), (640, 360), (320, 180), (480, 270)])
    cam.ptz.absolute_move(rng.uniform(-1, 1), rng.uniform(-0.6, 0.6), rng.uniform(0, 0.4))
    cam.motion = rng.random() < 0.3
    cam.objects.clear()
    t = 1_700_000_000_000 + rng.randrange(10_000_000)
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        label = rng.choice(LABELS)
        size = rng.uniform(0.15, 0.5) if label == "person" else rng.uniform(0.1, 0.32)
        cx, cy = rng.uniform(-0.05, 1.05), rng.uniform(0.3, 0.95)
        cam.objects.add(label=label, start=(cx, cy), end=(cx, cy), speed=0.1, size=size,
                        color=rng.choice(list(COLOURS)), repeat="loop", t0_ms=t,
                        appearance="figure", photo=None)
    yuv = scene.render(width, height, t)
    bgr = cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)
    if rng.random() < 0.5:
        bgr = cv2.GaussianBlur(bgr, (3, 3), rng.uniform(0.3, 1.2))
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 4), bgr.shape)
    bgr = np.clip(bgr + noise, 0, 255).astype(np.uint8)
    _, enc = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, rng.randrange(35, 90)])
    bgr = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    boxes = []
    for obj in cam.objects.snapshot():
        box = obj.box_px(t, width, height)
        full = obj.rect_px(t, width, height)
        if box is None or full is None or box[2] * box[3] < 0.5 * full[2] * full[3]:
            continue
        boxes.append((LABELS.index(obj.label), *box))
    return bgr, boxes


def crops(rng: random.Random, bgr: np.ndarray, boxes: list[tuple]) -> list[tuple]:
    """Regions cut the analyser's way around (jittered) object boxes, plus a random one."""
    height, width = bgr.shape[:2]
    motion = []
    for _, x, y, w, h in boxes:
        # A motion box is the object's old and new place: a little off and a little larger.
        jx, jy = rng.uniform(-0.3, 0.3) * w, rng.uniform(-0.2, 0.2) * h
        gw, gh = w * rng.uniform(0.6, 1.6), h * rng.uniform(0.6, 1.3)
        motion.append((max(0.0, (x + jx) / width), max(0.0, (y + jy) / height),
                       min(1.0, gw / width), min(1.0, gh / height)))
    regions = plan_regions(motion, width, height) if motion else []
    if rng.random() < 0.4 or not regions:
        rw = rng.uniform(0.3, 1.0) * width
        rh = rng.uniform(0.4, 1.0) * height
        rx, ry = rng.uniform(0, width - rw), rng.uniform(0, height - rh)
        regions.append((int(rx), int(ry), int(rw), int(rh)))
    out = []
    for rx, ry, rw, rh in regions:
        # The analyser's own letterbox (detect/onnx.py): the same resizing as at run time.
        img = np.empty((SIZE, SIZE, 3), np.uint8)
        scale, px, py = letterbox_into(bgr[ry : ry + rh, rx : rx + rw], img)
        targets = []
        for label, x, y, w, h in boxes:
            ix0, iy0 = max(x, rx), max(y, ry)
            ix1, iy1 = min(x + w, rx + rw), min(y + h, ry + rh)
            if ix1 <= ix0 or iy1 <= iy0 or (ix1 - ix0) * (iy1 - iy0) < 0.6 * w * h:
                continue
            targets.append((label, (ix0 - rx) * scale + px, (iy0 - ry) * scale + py,
                            (ix1 - ix0) * scale, (iy1 - iy0) * scale))
        out.append((img[:, :, ::-1].copy(), targets))  # RGB
    return out


def dataset(n_frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[N, 160, 160, 3]`` uint8 and targets ``[N, GRID, GRID, 5 + 1]``
    (objectness, cx offset, cy offset, log w, log h, class)."""
    rng = random.Random(seed)
    scenes = [Scene(CameraInfo(index=i, name=f"Camera {i}")) for i in range(1, 5)]
    images, targets = [], []
    for _ in range(n_frames):
        bgr, boxes = render_sample(rng, scenes)
        for img, objs in crops(rng, bgr, boxes):
            t = np.zeros((GRID, GRID, 6), np.float32)
            for label, x, y, w, h in sorted(objs, key=lambda o: -o[3] * o[4]):
                cx, cy = x + w / 2, y + h / 2
                gx, gy = min(GRID - 1, int(cx / STRIDE)), min(GRID - 1, int(cy / STRIDE))
                if t[gy, gx, 0]:
                    continue
                t[gy, gx] = (1, cx / STRIDE - gx, cy / STRIDE - gy,
                             np.log(max(w, 1) / STRIDE), np.log(max(h, 1) / STRIDE), label)
            images.append(img)
            targets.append(t)
    return np.stack(images), np.stack(targets)


class TinyDetector(nn.Module):
    """Five stride-2 stages to a 10 x 10 grid and a 1x1 head."""

    def __init__(self, classes: int = len(LABELS)) -> None:
        super().__init__()

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.body = nn.Sequential(
            block(3, 12, 2), block(12, 24, 2), block(24, 32, 2), block(32, 48, 2),
            block(48, 64, 1), block(64, 64, 1), block(64, 64, 1),
        )
        self.head = nn.Conv2d(64, 5 + classes, 1)
        ys, xs = torch.meshgrid(torch.arange(GRID), torch.arange(GRID), indexing="ij")
        self.register_buffer("grid", torch.stack([xs, ys], -1).float().reshape(1, -1, 2))

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, GRID, GRID, 5 + C]`` logits."""
        return self.head(self.body(x)).permute(0, 2, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Decoded ``[B, GRID*GRID, 5 + C]``: cx, cy, w, h (pixels), obj, classes."""
        r = self.raw(x)
        r = r.reshape(r.shape[0], GRID * GRID, r.shape[-1])
        xy = (torch.sigmoid(r[..., 0:2]) + self.grid) * STRIDE
        wh = torch.exp(r[..., 2:4].clamp(-4, 4)) * STRIDE
        return torch.cat([xy, wh, torch.sigmoid(r[..., 4:])], -1)


def loss_of(raw: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    pos = t[..., 0] > 0
    bce = nn.functional.binary_cross_entropy_with_logits
    obj = bce(raw[..., 4], t[..., 0], pos_weight=torch.tensor(4.0))
    if not pos.any():
        return obj
    p, q = raw[pos], t[pos]
    xy = nn.functional.l1_loss(torch.sigmoid(p[:, 0:2]), q[:, 1:3])
    wh = nn.functional.l1_loss(p[:, 2:4], q[:, 3:5])
    cls = bce(p[:, 5:], nn.functional.one_hot(q[:, 5].long(), len(LABELS)).float())
    return obj + 2 * xy + wh + cls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    started = time.monotonic()
    images, targets = dataset(args.frames, args.seed)
    print(f"{len(images)} crops from {args.frames} frames in {time.monotonic() - started:.0f} s")
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(targets)
    model = TinyDetector()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = args.epochs * ((len(x) + 63) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x))
        total = 0.0
        for i in range(0, len(x), 64):
            idx = order[i : i + 64]
            batch = x[idx].float() / 255.0
            if random.random() < 0.5:  # mirror: people and cars walk both ways
                batch = batch.flip(-1)
                tb = y[idx].flip(2).clone()
                tb[..., 1] = torch.where(tb[..., 0] > 0, 1 - tb[..., 1], tb[..., 1])
            else:
                tb = y[idx]
            loss = loss_of(model.raw(batch), tb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(x):.4f} ({time.monotonic() - started:.0f} s)")
    model.eval()
    torch.onnx.export(
        model, (torch.zeros(1, 3, SIZE, SIZE),), str(args.out), input_names=["images"],
        output_names=["detections"], dynamic_axes={"images": {0: "batch"},
                                                   "detections": {0: "batch"}},
        opset_version=17, dynamo=False,
    )
    import onnx

    proto = onnx.load(str(args.out))
    meta = {"labels": json.dumps(LABELS), "layout": "yolo-obj", "input": "rgb01-letterbox114",
            "trained_on": "argus camera-simulator scene (train_sim_detector.py)"}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(args.out))
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size} bytes) in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
