"""A heavier copy of the test model, for ``objects_bench.py --model``: same outputs, more
inference.

The object path's overhead is a fixed cost per region and per detection; the committed
test model (``sim-detector.onnx``) infers a region in about 0.5 ms, less than that fixed
cost. To see the overhead around a model of a realistic cost with the very same
detections, this script adds a branch of ``--layers`` 3x3 convolutions of ``--channels``
channels over the full-resolution input whose mean, times zero, is added to the output:
ONNX Runtime has to compute it (nothing folds a product with a non-constant operand),
and the detections stay bit for bit those of the test model.

It needs the ``onnx`` package, which is not a workspace dependency; run it from a
scratch venv:

    python -m venv /tmp/onnx-venv && /tmp/onnx-venv/bin/pip install onnx numpy
    /tmp/onnx-venv/bin/python bench/heavy_model.py /tmp/sim-detector-heavy.onnx
    .venv/bin/python bench/objects_bench.py --model /tmp/sim-detector-heavy.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "ai-analysis-service" / "models" / "sim-detector.onnx"


def heavier(model: onnx.ModelProto, layers: int, channels: int) -> onnx.ModelProto:
    """``model`` with a zero-weighted branch of ``layers`` convolutions on its input."""
    g = model.graph
    src, out = g.input[0].name, g.output[0].name
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    prev, prev_c = src, 3
    for i in range(layers):
        w = (rng.standard_normal((channels, prev_c, 3, 3)) * 0.1).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"heavy_w{i}"))
        nodes.append(
            helper.make_node(
                "Conv",
                [prev, f"heavy_w{i}"],
                [f"heavy_c{i}"],
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
            )
        )
        nodes.append(helper.make_node("Relu", [f"heavy_c{i}"], [f"heavy_r{i}"]))
        prev, prev_c = f"heavy_r{i}", channels
    inits.append(numpy_helper.from_array(np.array([1, 2], np.int64), "heavy_unsq"))
    inits.append(numpy_helper.from_array(np.zeros((), np.float32), "heavy_zero"))
    nodes += [
        helper.make_node("ReduceMean", [prev], ["heavy_mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["heavy_mean", "heavy_unsq"], ["heavy_mean3"]),
        helper.make_node("Mul", ["heavy_mean3", "heavy_zero"], ["heavy_nil"]),
    ]
    # the old output gets a new name; the sum takes its place
    for node in g.node:
        node.output[:] = [f"{out}_light" if o == out else o for o in node.output]
    nodes.append(helper.make_node("Add", [f"{out}_light", "heavy_nil"], [out]))
    g.node.extend(nodes)
    g.initializer.extend(inits)
    return model


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--channels", type=int, default=32)
    args = ap.parse_args()
    model = heavier(onnx.load(str(MODEL)), args.layers, args.channels)
    onnx.checker.check_model(model)
    onnx.save(model, str(args.out))
    print(f"wrote {args.out}: {args.layers} extra 3x3 convolutions of {args.channels} channels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
