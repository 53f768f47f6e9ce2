#!/usr/bin/env python3
"""Small ONNX graphs for the tests of run-time loading (tests/fixtures/onnx/), made with
onnx.helper, with onnxruntime's outputs recorded next to them:

- multi_io.onnx: inputs a (float32 [N, 3]) and b (int64 [N]); outputs sum = a + b (float32
  [N, 3]), mask = a > 0 (bool [N, 3]) and count = b * 2 (int64 [N]). Metadata: no labels.
- pools.onnx: input x (float32 [N, 3, 9, 13]); outputs p2 = MaxPool 2x2 stride 2, p3 = MaxPool
  3x3 stride 3 (windows that tile the image: edgeserve's own pool, src/engine/pool.rs; odd sizes
  leave rows and columns out, and leave SIMD remainders) and p2s1 = MaxPool 2x2 stride 1 with
  "same" padding (overlapping: tract's pool). pools.json: an input of batch 2 and the outputs.
- convs.onnx: input x (float32 [N, 29, 11, 13]); outputs of convolutions and a dense layer
  whose sizes are no multiple of a kernel's tile (the matrix-multiply kernel edgeserve registers
  with tract in wasm, src/engine/specialize/gemm.rs, and tract's own natively), each with what
  a kernel fuses: conv3_relu = Relu(Conv 3x3, 29 -> 7, bias), conv1_clip = Clip(Conv 1x1, 29 ->
  37, bias, 0, 6), residual = Relu(Conv 3x3, 29 -> 29, bias + x), strided = Conv 3x3 stride 2,
  29 -> 16, wide = Conv 5x5, 29 -> 33 (k = 725), dense = Gemm(Flatten(strided), 672 -> 19,
  bias).
  (29 input channels: too many for edgeserve's direct convolution, which would take them.)
  convs.json: an input of batch 2 and the outputs.
- small_convs.onnx: input x (float32 [N, 3, 9, 40]); outputs of the convolutions a small CNN
  has at stride 1 (edgeserve's direct convolution in wasm, src/engine/specialize/conv.rs). Its
  first layer's, of few input channels: rgb = Relu(Conv 3x3, 3 -> 5, pads 1, bias), grey = Conv
  5x5 of channel 0, 1 -> 4, pads 2, bias, pair = Conv 1x3 of channels 0 and 1, 2 -> 3, pads (0, 2,
  1, 0), bias, valid = Conv 3x3, 3 -> 4, no padding, no bias; rows of 40: two passes of the
  kernel. A second layer's, of few output channels, on rgb: second = Relu(Conv 3x3, 5 -> 7, pads
  1, bias) (a last block of three channels) and second_valid = Conv 2x3, 5 -> 6, no padding, bias
  (rows of 38: a last tile of six outputs). small_convs.json: an input of batch 2 and the outputs.
- dense.onnx: input x (float32 [N, 7]); output y = Softmax(Gemm(Relu(Gemm(x, 7 -> 5)), 5 -> 3)):
  dense layers of odd widths, which edgeserve's row executor takes (src/engine/rows.rs: a
  lone row's last, unpaired step of k). dense.json: an input of batch 2 and the output.
- indices.onnx: inputs ids (int64 [N, 2]), x (float32 [N, 3]) and j (int64 [N, 3]); outputs
  embedded = Gather(table, ids) (a constant float32 [6, 4] table: [N, 2, 4]) and picked =
  GatherElements(x, j, axis 1) ([N, 3]): indices that come at run time, which edgeserve checks
  before tract reads data at them (src/engine/specialize/indices.rs). indices.json: inputs of
  batch 2 (negative indices among them) and the outputs.
- unsupported.onnx: a node of an operator no runtime knows (com.example.Frobnicate), named
  "frob_1", to check that errors name the operator and the node.

Usage: python3 training/fixtures.py
"""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "onnx"


def save(graph: onnx.GraphProto, name: str, out: Path = OUT) -> ort.InferenceSession:
    """Writes the graph as <name>.onnx in `out` (opset 17, IR 8, checked) and opens it in
    onnxruntime."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgeserve-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    (out / f"{name}.onnx").write_bytes(data)
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def record(name: str, session: ort.InferenceSession, x_in: np.ndarray) -> None:
    """Runs the fixture on input x and writes <name>.json: the input and every float32 output."""
    names = [o.name for o in session.get_outputs()]
    results = session.run(None, {"x": x_in})
    expected = {
        "inputs": {"x": {"shape": list(x_in.shape), "data": x_in.ravel().tolist()}},
        "outputs": {n: {"dtype": "float32", "shape": list(r.shape), "data": r.ravel().tolist()} for n, r in zip(names, results)},
        "reference": f"onnxruntime {ort.__version__}",
    }
    (OUT / f"{name}.json").write_text(json.dumps(expected) + "\n")


def multi_io() -> None:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 3])
    b = helper.make_tensor_value_info("b", TensorProto.INT64, ["N"])
    total = helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["N", 3])
    mask = helper.make_tensor_value_info("mask", TensorProto.BOOL, ["N", 3])
    count = helper.make_tensor_value_info("count", TensorProto.INT64, ["N"])
    two = helper.make_tensor("two", TensorProto.INT64, [], [2])
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("Cast", ["b"], ["b_float"], to=TensorProto.FLOAT, name="cast_b"),
        helper.make_node("Unsqueeze", ["b_float", "axes"], ["b_col"], name="unsqueeze_b"),
        helper.make_node("Add", ["a", "b_col"], ["sum"], name="add"),
        helper.make_node("Greater", ["a", "zero"], ["mask"], name="greater"),
        helper.make_node("Mul", ["b", "two"], ["count"], name="mul"),
    ]
    session = save(helper.make_graph(nodes, "multi_io", [a, b], [total, mask, count], initializer=[two, zero, axes]), "multi_io")
    a_in = np.array([[1.5, -2.0, 0.0], [-0.5, 3.25, 7.0]], dtype=np.float32)
    b_in = np.array([4, -3], dtype=np.int64)
    s, m, c = session.run(None, {"a": a_in, "b": b_in})
    expected = {
        "inputs": {"a": {"shape": [2, 3], "data": a_in.ravel().tolist()}, "b": {"shape": [2], "data": b_in.tolist()}},
        "outputs": {
            "sum": {"dtype": "float32", "shape": list(s.shape), "data": s.ravel().tolist()},
            "mask": {"dtype": "bool", "shape": list(m.shape), "data": [bool(x) for x in m.ravel()]},
            "count": {"dtype": "int64", "shape": list(c.shape), "data": c.tolist()},
        },
        "reference": f"onnxruntime {ort.__version__}",
    }
    (OUT / "multi_io.json").write_text(json.dumps(expected, indent=2) + "\n")


def pools() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 9, 13])
    outputs = {  # name: (attributes, output height and width)
        "p2": (dict(kernel_shape=[2, 2], strides=[2, 2]), [4, 6]),
        "p3": (dict(kernel_shape=[3, 3], strides=[3, 3]), [3, 4]),
        "p2s1": (dict(kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_UPPER"), [9, 13]),
    }
    nodes = [helper.make_node("MaxPool", ["x"], [name], name=f"pool_{name}", **attrs) for name, (attrs, _) in outputs.items()]
    ys = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 3, *hw]) for name, (_, hw) in outputs.items()]
    session = save(helper.make_graph(nodes, "pools", [x], ys), "pools")
    record("pools", session, np.random.default_rng(7).normal(size=(2, 3, 9, 13)).astype(np.float32))


def convs() -> None:
    rng = np.random.default_rng(11)
    # 29 channels: more than edgeserve's direct convolution takes (src/engine/specialize/conv.rs),
    # so that in wasm each of these is a product on edgeserve's kernels.
    c = 29
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", c, 11, 13])
    inits, nodes = [], []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def conv(name: str, cout: int, k: int, stride: int = 1) -> str:
        w = const(f"{name}_w", rng.normal(0.0, np.sqrt(2.0 / (c * k * k)), size=(cout, c, k, k)))
        b = const(f"{name}_b", rng.normal(0.0, 0.1, size=cout))
        nodes.append(helper.make_node("Conv", ["x", w, b], [f"{name}_c"], name=f"{name}_conv", kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4))
        return f"{name}_c"

    nodes.append(helper.make_node("Relu", [conv("conv3", 7, 3)], ["conv3_relu"]))
    nodes.append(helper.make_node("Clip", [conv("conv1", 37, 1), const("lo", np.array(0.0)), const("hi", np.array(6.0))], ["conv1_clip"]))
    nodes.append(helper.make_node("Add", [conv("res", c, 3), "x"], ["res_sum"]))
    nodes.append(helper.make_node("Relu", ["res_sum"], ["residual"]))
    nodes.append(helper.make_node("Identity", [conv("strided", 16, 3, 2)], ["strided"]))
    nodes.append(helper.make_node("Identity", [conv("wide", 33, 5)], ["wide"]))
    nodes.append(helper.make_node("Flatten", ["strided"], ["flat"], axis=1))
    w = const("dense_w", rng.normal(0.0, np.sqrt(1.0 / 672), size=(19, 672)))
    nodes.append(helper.make_node("Gemm", ["flat", w, const("dense_b", rng.normal(0.0, 0.1, size=19))], ["dense"], transB=1))
    shapes = {"conv3_relu": [7, 11, 13], "conv1_clip": [37, 11, 13], "residual": [c, 11, 13], "strided": [16, 6, 7], "wide": [33, 11, 13], "dense": [19]}
    ys = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", *s]) for n, s in shapes.items()]
    session = save(helper.make_graph(nodes, "convs", [x], ys, initializer=inits), "convs")
    record("convs", session, rng.normal(size=(2, c, 11, 13)).astype(np.float32))


def small_convs() -> None:
    rng = np.random.default_rng(17)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 9, 40])
    inits, nodes, ys = [], [], []

    def weight(name: str, shape: tuple) -> str:
        inits.append(numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name))
        return name

    def channels(name: str, end: int) -> str:
        for n, v in ((f"{name}_start", [0]), (f"{name}_end", [end]), (f"{name}_axis", [1])):
            inits.append(numpy_helper.from_array(np.array(v, dtype=np.int64), n))
        nodes.append(helper.make_node("Slice", ["x", f"{name}_start", f"{name}_end", f"{name}_axis"], [f"{name}_x"], name=f"slice_{name}"))
        return f"{name}_x"

    nodes.append(helper.make_node("Conv", ["x", weight("w_rgb", (5, 3, 3, 3)), weight("b_rgb", (5,))], ["rgb_conv"], pads=[1, 1, 1, 1], name="conv_rgb"))
    nodes.append(helper.make_node("Relu", ["rgb_conv"], ["rgb"], name="relu_rgb"))
    nodes.append(helper.make_node("Conv", [channels("grey", 1), weight("w_grey", (4, 1, 5, 5)), weight("b_grey", (4,))], ["grey"], pads=[2, 2, 2, 2], name="conv_grey"))
    nodes.append(helper.make_node("Conv", [channels("pair", 2), weight("w_pair", (3, 2, 1, 3)), weight("b_pair", (3,))], ["pair"], pads=[0, 2, 1, 0], name="conv_pair"))
    nodes.append(helper.make_node("Conv", ["x", weight("w_valid", (4, 3, 3, 3))], ["valid"], name="conv_valid"))
    nodes.append(helper.make_node("Conv", ["rgb", weight("w_second", (7, 5, 3, 3)), weight("b_second", (7,))], ["second_conv"], pads=[1, 1, 1, 1], name="conv_second"))
    nodes.append(helper.make_node("Relu", ["second_conv"], ["second"], name="relu_second"))
    nodes.append(helper.make_node("Conv", ["rgb", weight("w_second_valid", (6, 5, 2, 3)), weight("b_second_valid", (6,))], ["second_valid"], name="conv_second_valid"))
    outputs = (("rgb", [5, 9, 40]), ("grey", [4, 9, 40]), ("pair", [3, 10, 40]), ("valid", [4, 7, 38]), ("second", [7, 9, 40]), ("second_valid", [6, 8, 38]))
    for name, shape in outputs:
        ys.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *shape]))
    session = save(helper.make_graph(nodes, "small_convs", [x], ys, initializer=inits), "small_convs")
    record("small_convs", session, rng.normal(size=(2, 3, 9, 40)).astype(np.float32))


def dense() -> None:
    rng = np.random.default_rng(13)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 7])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    inits = [numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name) for name, shape in [("w1", (5, 7)), ("b1", (5,)), ("w2", (3, 5)), ("b2", (3,))]]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, name="dense_1"),
        helper.make_node("Relu", ["h"], ["a"], name="relu"),
        helper.make_node("Gemm", ["a", "w2", "b2"], ["z"], transB=1, name="dense_2"),
        helper.make_node("Softmax", ["z"], ["y"], axis=1, name="softmax"),
    ]
    session = save(helper.make_graph(nodes, "dense", [x], [y], initializer=inits), "dense")
    record("dense", session, rng.normal(size=(2, 7)).astype(np.float32))


def indices() -> None:
    rng = np.random.default_rng(11)
    table = rng.normal(size=(6, 4)).astype(np.float32)
    inputs = [
        helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 2]),
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3]),
        helper.make_tensor_value_info("j", TensorProto.INT64, ["N", 3]),
    ]
    outputs = [
        helper.make_tensor_value_info("embedded", TensorProto.FLOAT, ["N", 2, 4]),
        helper.make_tensor_value_info("picked", TensorProto.FLOAT, ["N", 3]),
    ]
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["embedded"], axis=0, name="embed"),
        helper.make_node("GatherElements", ["x", "j"], ["picked"], axis=1, name="pick"),
    ]
    graph = helper.make_graph(nodes, "indices", inputs, outputs, initializer=[numpy_helper.from_array(table, "table")])
    session = save(graph, "indices")
    feed = {
        "ids": np.array([[0, 5], [-1, 2]], dtype=np.int64),
        "x": rng.normal(size=(2, 3)).astype(np.float32),
        "j": np.array([[2, 0, 1], [-3, -1, 2]], dtype=np.int64),
    }
    embedded, picked = session.run(None, feed)
    expected = {
        "inputs": {n: {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.ravel().tolist()} for n, v in feed.items()},
        "outputs": {n: {"dtype": "float32", "shape": list(r.shape), "data": r.ravel().tolist()} for n, r in (("embedded", embedded), ("picked", picked))},
        "reference": f"onnxruntime {ort.__version__}",
    }
    (OUT / "indices.json").write_text(json.dumps(expected) + "\n")


def unsupported() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("Frobnicate", ["x"], ["y"], name="frob_1", domain="com.example")
    graph = helper.make_graph([node], "unsupported", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    (OUT / "unsupported.onnx").write_bytes(model.SerializeToString())


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    multi_io()
    pools()
    convs()
    small_convs()
    dense()
    indices()
    unsupported()
    print(f"wrote {sorted(p.name for p in OUT.iterdir())}")
