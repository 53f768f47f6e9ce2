#!/usr/bin/env python3
"""Small ONNX graphs of what real models do that tract does not take as they are
(tests/fixtures/onnx/, tests/dynamic.rs), made with onnx.helper, with onnxruntime's outputs on
two calls of different shapes recorded next to each (<name>.json: {"calls": [{"inputs",
"outputs"}], "reference"}):

- free_dims.onnx: input x float32 [?, 3, ?, -1] (dimensions with no name, and a -1, as
  paddle2onnx writes them): y = Concat(x, Resize(MaxPool(x, 2x2 stride 2), x2 nearest)) on
  channels. The Concat needs H = 2 * floor(H / 2), which tract cannot prove for a symbol: the
  graph is typed per shape set, as onnxruntime does.
- branches.onnx: inputs x float32 [N, 4] and sr int64 [] (a scalar, as Silero VAD's sample
  rate): rate = If(sr == 16000, then x * 2, else x + 1) (a condition known at run time only),
  and lone = If(Shape(x)[0] == 1, then Squeeze(rate, 0) (rank 1), else Identity(rate) (rank
  2)) (PyTorch's export of a squeeze that applies when there is one row: the branches differ in
  rank, and the one not taken does not type with the shapes at hand).
- optimizer_failure.onnx: input x float32 [batch, 8]: y = Gemm(x, W1) + Gemm(h0, W2) where h0 =
  ConstantOfShape([batch, 16]) of zeros (an LSTM's first hidden state, as PyTorch exports it:
  captcha-whisperer's CRNN). tract 0.23's declutter pass fails on the Gemm of the uniform zeros
  ("EinSum: Condition failed"); edgeserve loads it without that pass and says so in its notes.
- recurrent.onnx: inputs x float32 [T, 1, 3] (a sequence of any length), h0 and c0 float32
  [1, 1, 4]: y, y_h, y_c = LSTM(x, h0, c0) (hidden 4), as a streaming model's state is passed in
  and out (Silero VAD's sequence graph). Calls of the same and of other lengths, with other
  states: tract carries a loop's state from one run of a plan to the next unless told otherwise,
  and each call must start from the h0 and c0 it gives.

Usage: python3 training/dynamic_fixtures.py
"""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "onnx"


def save(graph: onnx.GraphProto, name: str, check: bool = True) -> ort.InferenceSession:
    """Writes the graph; `check`: by onnx's checker (which wants every output's rank, that an
    output whose rank depends on a branch does not have; onnxruntime checks the graph then)."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgeserve-fixtures")
    model.ir_version = 8
    if check:
        onnx.checker.check_model(model)
    data = model.SerializeToString()
    (OUT / f"{name}.onnx").write_bytes(data)
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def tensor_json(v: np.ndarray) -> dict:
    return {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.ravel().tolist()}


def record(name: str, session: ort.InferenceSession, calls: list[dict]) -> None:
    names = [o.name for o in session.get_outputs()]
    recorded = []
    for feed in calls:
        results = session.run(names, feed)
        recorded.append({"inputs": {n: tensor_json(v) for n, v in feed.items()}, "outputs": {n: tensor_json(np.asarray(r)) for n, r in zip(names, results)}})
    (OUT / f"{name}.json").write_text(json.dumps({"calls": recorded, "reference": f"onnxruntime {ort.__version__}"}) + "\n")


def free_dims() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, None, -1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 6, None, None])
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    nodes = [
        helper.make_node("MaxPool", ["x"], ["pooled"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Resize", ["pooled", "", "scales"], ["up"], name="up", mode="nearest"),
        helper.make_node("Concat", ["x", "up"], ["y"], name="concat", axis=1),
    ]
    session = save(helper.make_graph(nodes, "free_dims", [x], [y], initializer=[scales]), "free_dims")
    rng = np.random.default_rng(3)
    record("free_dims", session, [{"x": rng.normal(size=s).astype(np.float32)} for s in ((1, 3, 8, 10), (2, 3, 6, 4))])


def branches() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    sr = helper.make_tensor_value_info("sr", TensorProto.INT64, [])
    rate = helper.make_tensor_value_info("rate", TensorProto.FLOAT, ["N", 4])
    lone = helper.make_tensor_value_info("lone", TensorProto.FLOAT, None)
    consts = [
        numpy_helper.from_array(np.array(16000, dtype=np.int64), "sixteen_k"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
        numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "onef"),
    ]
    out = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
    then_rate = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["doubled"])], "then_rate", [], [out("doubled")])
    else_rate = helper.make_graph([helper.make_node("Add", ["x", "onef"], ["plus_one"])], "else_rate", [], [out("plus_one")])
    then_lone = helper.make_graph([helper.make_node("Squeeze", ["rate", "axis0"], ["squeezed"])], "then_lone", [], [out("squeezed")])
    else_lone = helper.make_graph([helper.make_node("Identity", ["rate"], ["same"])], "else_lone", [], [out("same")])
    nodes = [
        helper.make_node("Equal", ["sr", "sixteen_k"], ["is_16k"], name="is_16k"),
        helper.make_node("If", ["is_16k"], ["rate"], name="by_rate", then_branch=then_rate, else_branch=else_rate),
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["rows"], name="rows", axis=0),
        helper.make_node("Equal", ["rows", "one"], ["single"], name="single"),
        helper.make_node("If", ["single"], ["lone"], name="by_rows", then_branch=then_lone, else_branch=else_lone),
    ]
    session = save(helper.make_graph(nodes, "branches", [x, sr], [rate, lone], initializer=consts), "branches", check=False)
    rng = np.random.default_rng(5)
    calls = [
        {"x": rng.normal(size=(1, 4)).astype(np.float32), "sr": np.array(16000, dtype=np.int64)},
        {"x": rng.normal(size=(3, 4)).astype(np.float32), "sr": np.array(8000, dtype=np.int64)},
    ]
    record("branches", session, calls)


def optimizer_failure() -> None:
    rng = np.random.default_rng(9)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 12])
    inits = [
        numpy_helper.from_array(rng.normal(size=(12, 8)).astype(np.float32), "w_ih"),
        numpy_helper.from_array(rng.normal(size=(12, 16)).astype(np.float32), "w_hh"),
        numpy_helper.from_array(rng.normal(size=(12,)).astype(np.float32), "b_hh"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "start"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "end"),
        numpy_helper.from_array(np.array([16], dtype=np.int64), "hidden"),
    ]
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Slice", ["shape", "start", "end"], ["batch"], name="batch"),
        helper.make_node("Concat", ["batch", "hidden"], ["h_shape"], name="h_shape", axis=0),
        helper.make_node("ConstantOfShape", ["h_shape"], ["h0"], name="h0", value=numpy_helper.from_array(np.array([0.0], dtype=np.float32))),
        helper.make_node("Gemm", ["x", "w_ih"], ["ih"], name="ih", transB=1),
        helper.make_node("Gemm", ["h0", "w_hh", "b_hh"], ["hh"], name="hh", transB=1),
        helper.make_node("Add", ["ih", "hh"], ["y"], name="y"),
    ]
    session = save(helper.make_graph(nodes, "optimizer_failure", [x], [y], initializer=inits), "optimizer_failure")
    record("optimizer_failure", session, [{"x": rng.normal(size=s).astype(np.float32)} for s in ((1, 8), (3, 8))])


def recurrent() -> None:
    rng = np.random.default_rng(11)
    hidden, width = 4, 3
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", 1, width])
    h0 = helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, 1, hidden])
    c0 = helper.make_tensor_value_info("c0", TensorProto.FLOAT, [1, 1, hidden])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["T", 1, 1, hidden])
    y_h = helper.make_tensor_value_info("y_h", TensorProto.FLOAT, [1, 1, hidden])
    y_c = helper.make_tensor_value_info("y_c", TensorProto.FLOAT, [1, 1, hidden])
    inits = [
        numpy_helper.from_array(rng.normal(size=(1, 4 * hidden, width)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.normal(size=(1, 4 * hidden, hidden)).astype(np.float32), "r"),
        numpy_helper.from_array(rng.normal(size=(1, 8 * hidden)).astype(np.float32), "b"),
    ]
    nodes = [helper.make_node("LSTM", ["x", "w", "r", "b", "", "h0", "c0"], ["y", "y_h", "y_c"], name="lstm", hidden_size=hidden)]
    session = save(helper.make_graph(nodes, "recurrent", [x, h0, c0], [y, y_h, y_c], initializer=inits), "recurrent")
    state = lambda: rng.normal(size=(1, 1, hidden)).astype(np.float32)
    zeros = np.zeros((1, 1, hidden), dtype=np.float32)
    a, b = rng.normal(size=(5, 1, width)).astype(np.float32), rng.normal(size=(2, 1, width)).astype(np.float32)
    calls = [
        {"x": a, "h0": zeros, "c0": zeros},
        {"x": a, "h0": zeros, "c0": zeros},  # the same call again: the same outputs
        {"x": a, "h0": state(), "c0": state()},
        {"x": b, "h0": zeros, "c0": zeros},
        {"x": b, "h0": state(), "c0": state()},
        {"x": a, "h0": zeros, "c0": zeros},
        {"x": a[:1], "h0": state(), "c0": state()},
    ]
    record("recurrent", session, calls)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    free_dims()
    branches()
    optimizer_failure()
    recurrent()
    print("wrote free_dims, branches, optimizer_failure and recurrent (.onnx, .json)")
