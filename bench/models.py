#!/usr/bin/env python3
"""Makes the benchmark's models: ONNX graphs built with onnx.helper and numpy (random weights,
fixed seeds, nothing downloaded), each with one batch-1 input and onnxruntime's outputs for it.

  cnn-small      a 28x28x1 CNN (conv 8, pool, conv 16, pool, dense 10, softmax)
  mobilenet-v2   MobileNet-v2-shaped at 224x224x3 (17 inverted residual blocks, 1000 classes)
  resnet-18      ResNet-18-shaped at 224x224x3 (8 basic blocks, 1000 classes)
  digits-fast, digits-accurate   the shipped packages' model.onnx, input = a golden row scaled

Writes <out>/<name>/{model.onnx, input-0.bin, output-<i>.bin, meta.json} and <out>/index.json.
meta.json: {name, inputs: [{name, dtype, shape, file}], outputs: [...], params, flops
(multiply-adds per row), bytes, onnxruntime}. Tensors are raw little-endian. The batch dimension
is symbolic ("N"), so any batch size runs.

  python3 bench/models.py [--out target/bench-models]
"""

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
OPSET = 17


class Graph:
    """A small builder: nodes, initializers, and a running count of multiply-adds."""

    def __init__(self, name: str, seed: int):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.flops = 0
        self.count = 0

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def weight(self, shape, fan_in: int) -> str:
        name = self.fresh("w")
        w = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(np.float32)
        self.inits.append(numpy_helper.from_array(w, name))
        return name

    def bias(self, n: int) -> str:
        name = self.fresh("b")
        self.inits.append(numpy_helper.from_array(self.rng.normal(0.0, 0.01, size=n).astype(np.float32), name))
        return name

    def op(self, kind: str, inputs: list, **attrs) -> str:
        out = self.fresh(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int, hw: int, groups: int = 1) -> tuple[str, int]:
        """A convolution with bias ('same' padding); returns the output and its spatial size."""
        w = self.weight((cout, cin // groups, k, k), fan_in=(cin // groups) * k * k)
        out_hw = (hw + stride - 1) // stride
        self.flops += out_hw * out_hw * cout * (cin // groups) * k * k
        pad = k // 2
        y = self.op("Conv", [x, w, self.bias(cout)], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=groups)
        return y, out_hw

    def relu6(self, x: str) -> str:
        lo, hi = self.fresh("lo"), self.fresh("hi")
        self.inits += [numpy_helper.from_array(np.array(0.0, np.float32), lo), numpy_helper.from_array(np.array(6.0, np.float32), hi)]
        return self.op("Clip", [x, lo, hi])

    def dense(self, x: str, cin: int, cout: int) -> str:
        self.flops += cin * cout
        return self.op("Gemm", [x, self.weight((cout, cin), fan_in=cin), self.bias(cout)], transB=1)

    def model(self, x_shape: list, y: str, y_shape: list) -> onnx.ModelProto:
        self.nodes.append(helper.make_node("Identity", [y], ["output"]))
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *x_shape])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", *y_shape])],
            self.inits,
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="edgeserve-bench")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def cnn_small() -> tuple[onnx.ModelProto, list, int]:
    g = Graph("cnn-small", seed=1)
    x, hw = g.conv("input", 1, 8, 3, 1, 28)
    x = g.op("MaxPool", [g.op("Relu", [x])], kernel_shape=[2, 2], strides=[2, 2])
    x, hw = g.conv(x, 8, 16, 3, 1, hw // 2)
    x = g.op("MaxPool", [g.op("Relu", [x])], kernel_shape=[2, 2], strides=[2, 2])
    x = g.op("Flatten", [x], axis=1)
    x = g.op("Softmax", [g.dense(x, 16 * 7 * 7, 10)], axis=1)
    return g.model([1, 28, 28], x, [10]), [1, 28, 28], g.flops


def mobilenet_v2() -> tuple[onnx.ModelProto, list, int]:
    g = Graph("mobilenet-v2", seed=2)
    x, hw = g.conv("input", 3, 32, 3, 2, 224)
    x = g.relu6(x)
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = x
            if t != 1:
                y, _ = g.conv(y, cin, hidden, 1, 1, hw)
                y = g.relu6(y)
            y, out_hw = g.conv(y, hidden, hidden, 3, stride, hw, groups=hidden)
            y = g.relu6(y)
            y, _ = g.conv(y, hidden, c, 1, 1, out_hw)
            x = g.op("Add", [x, y]) if stride == 1 and cin == c else y
            cin, hw = c, out_hw
    x, _ = g.conv(x, cin, 1280, 1, 1, hw)
    x = g.op("Flatten", [g.op("GlobalAveragePool", [g.relu6(x)])], axis=1)
    x = g.dense(x, 1280, 1000)
    return g.model([3, 224, 224], x, [1000]), [3, 224, 224], g.flops


def resnet_18() -> tuple[onnx.ModelProto, list, int]:
    g = Graph("resnet-18", seed=3)
    x, hw = g.conv("input", 3, 64, 7, 2, 224)
    x = g.op("MaxPool", [g.op("Relu", [x])], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    hw = hw // 2
    cin = 64
    for stage, c in enumerate([64, 128, 256, 512]):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            y, out_hw = g.conv(x, cin, c, 3, stride, hw)
            y, _ = g.conv(g.op("Relu", [y]), c, c, 3, 1, out_hw)
            shortcut = x if stride == 1 and cin == c else g.conv(x, cin, c, 1, stride, hw)[0]
            x = g.op("Relu", [g.op("Add", [y, shortcut])])
            cin, hw = c, out_hw
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    x = g.dense(x, 512, 1000)
    return g.model([3, 224, 224], x, [1000]), [3, 224, 224], g.flops


DTYPES = {np.dtype("float32"): "float32", np.dtype("int64"): "int64"}


def write(out: Path, name: str, model_bytes: bytes, x: np.ndarray, flops: int) -> None:
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.onnx").write_bytes(model_bytes)
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x}
    t = time.perf_counter()
    outputs = session.run(None, feed)
    ms = (time.perf_counter() - t) * 1e3
    session.run(None, {k: np.concatenate([v] * 4) for k, v in feed.items()})  # the batch dimension is free
    for y in outputs:
        assert np.all(np.isfinite(y)) and (y.dtype != np.float32 or np.std(y) > 0), f"{name}: degenerate output"
    (d / "input-0.bin").write_bytes(x.astype("<f4").tobytes())
    for i, y in enumerate(outputs):
        (d / f"output-{i}.bin").write_bytes(y.astype(y.dtype.newbyteorder("<")).tobytes())
    model = onnx.load_from_string(model_bytes)
    inits = {t.name for t in model.graph.initializer}
    meta = {
        "name": name,
        "inputs": [{"name": i.name, "dtype": "float32", "shape": list(x.shape), "file": "input-0.bin"} for i in model.graph.input if i.name not in inits],
        "outputs": [{"name": o.name, "dtype": DTYPES[y.dtype], "shape": list(y.shape), "file": f"output-{i}.bin"} for i, (o, y) in enumerate(zip(session.get_outputs(), outputs))],
        "params": int(sum(np.prod(t.dims) for t in model.graph.initializer)),
        "flops": int(flops),
        "bytes": len(model_bytes),
        "onnxruntime": ort.__version__,
    }
    (d / "meta.json").write_text(json.dumps(meta, indent=1))
    print(f"{name:16} {meta['params']:>10,} params {flops / 1e6:>9.1f} M multiply-adds {len(model_bytes):>11,} bytes  onnxruntime (native) {ms:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "bench-models")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    names = []
    for name in ("digits-fast", "digits-accurate"):
        model_bytes = (ROOT / "models" / name / "model.onnx").read_bytes()
        golden = json.loads((ROOT / "models" / name / "golden.json").read_text())
        x = (np.array(golden["cases"][0]["input"], np.float32) * 0.0625)[None, :]
        m = onnx.load_from_string(model_bytes)
        flops = sum(int(np.prod(t.dims)) for t in m.graph.initializer if len(t.dims) == 2)
        write(args.out, name, model_bytes, x, flops)
        names.append(name)
    for make in (cnn_small, mobilenet_v2, resnet_18):
        model, shape, flops = make()
        x = rng.random((1, *shape), dtype=np.float32)
        write(args.out, model.graph.name, model.SerializeToString(), x, flops)
        names.append(model.graph.name)
    (args.out / "index.json").write_text(json.dumps({"models": names}, indent=1))


if __name__ == "__main__":
    main()
