#!/usr/bin/env python3
"""Malformed ONNX files, one per impossible value an operator can be given (an axis outside
the tensor, a zero stride, a negative size, an index outside the data), written to
tests/fixtures/fuzz/package/op-<case>.onnx. tract 0.23 panics on each (a trap in wasm);
edgeserve checks them first (src/engine/checked_ops.rs) and refuses the file with an error.
tests/fuzz_regressions.rs loads each natively, tests/js/bad-input.test.mjs in wasm: every one
must fail to load with MODEL_LOAD, naming the operator, and the module must keep working.

Usage: python3 training/malformed.py
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/fuzz/package"


def const(name, values, dtype=np.int64):
    return nh.from_array(np.array(values, dtype), name)


def graph(nodes, inits=(), shape=(2, 3), opset=17, outputs=("y",)):
    """A graph of input x (float32 `shape`) through `nodes` to float32 outputs."""
    g = h.make_graph(
        nodes,
        "malformed",
        [h.make_tensor_value_info("x", T.FLOAT, list(shape))],
        [h.make_tensor_value_info(o, T.FLOAT, None) for o in outputs],
        initializer=list(inits),
    )
    return h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="training/malformed.py")


def node(op, inputs, outputs=("y",), **attrs):
    return h.make_node(op, list(inputs), list(outputs), **attrs)


IMAGE = (1, 1, 4, 4)

CASES = {
    # an axis outside the tensor, or a repeated one
    "unsqueeze-attr-axis": graph([node("Unsqueeze", ["x"], axes=[9])], opset=11),
    "squeeze-attr-axis": graph([node("Squeeze", ["x"], axes=[5])], opset=11),
    "squeeze-input-axis": graph([node("Squeeze", ["x", "a"])], [const("a", [5])]),
    "squeeze-negative-axis": graph([node("Squeeze", ["x", "a"])], [const("a", [-7])]),
    "flatten-axis": graph([node("Flatten", ["x"], axis=5)]),
    "transpose-perm-axis": graph([node("Transpose", ["x"], perm=[0, 5])]),
    "transpose-perm-length": graph([node("Transpose", ["x"], perm=[0, 1, 2])]),
    "transpose-perm-repeat": graph([node("Transpose", ["x"], perm=[0, 0])]),
    "split-axis": graph([node("Split", ["x"], axis=3)]),
    "argmax-axis": graph([node("ArgMax", ["x"], axis=3)]),
    "hardmax-axis": graph([node("Hardmax", ["x"], axis=9)]),
    "softmax-axis": graph([node("Softmax", ["x"], axis=4)]),
    "logsoftmax-axis": graph([node("LogSoftmax", ["x"], axis=-4)]),
    "topk-axis": graph([node("TopK", ["x", "k"], ["y", "i"], axis=7)], [const("k", [1])], outputs=("y",)),
    "reducemean-attr-axes": graph([node("ReduceMean", ["x"], axes=[4])]),
    "reducesum-input-axes": graph([node("ReduceSum", ["x", "a"])], [const("a", [4])]),
    # a window that does not fit the image's axes
    "maxpool-kernel-zero": graph([node("MaxPool", ["x"], kernel_shape=[0, 0])], shape=IMAGE),
    "maxpool-kernel-length": graph([node("MaxPool", ["x"], kernel_shape=[9])], shape=IMAGE),
    "maxpool-stride-zero": graph([node("MaxPool", ["x"], kernel_shape=[2, 2], strides=[0, 0])], shape=IMAGE),
    "averagepool-pads-length": graph([node("AveragePool", ["x"], kernel_shape=[2, 2], pads=[1])], shape=IMAGE),
    "conv-dilation-zero": graph([node("Conv", ["x", "w"], dilations=[0, 0])], [const("w", np.ones((2, 1, 3, 3)), np.float32)], shape=IMAGE),
    # a size of zero or less
    "depthtospace-blocksize-zero": graph([node("DepthToSpace", ["x"], blocksize=0)], shape=(1, 4, 2, 2)),
    "lrn-size-zero": graph([node("LRN", ["x"], size=0)], shape=(1, 4, 2, 2)),
    "lstm-hidden-size-zero": graph(
        [node("LSTM", ["x", "w", "r"], hidden_size=0)],
        [const("w", np.ones((1, 0, 3)), np.float32), const("r", np.ones((1, 0, 0)), np.float32)],
        shape=(2, 1, 3),
    ),
    "range-delta-zero": graph(
        [node("Range", ["s", "l", "d"])], [const(n, v, np.float32) for n, v in (("s", 0), ("l", 1), ("d", 0))]
    ),
    "constantofshape-negative": graph([node("ConstantOfShape", ["s"])], [const("s", [-3])]),
    "tile-negative-repeats": graph([node("Tile", ["x", "r"])], [const("r", [-2, 1])]),
    "tile-repeats-length": graph([node("Tile", ["x", "r"])], [const("r", [2])]),
    "pad-negative-size": graph([node("Pad", ["x", "p"])], [const("p", [-5, 0, 0, 0])]),
    "pad-pads-length": graph([node("Pad", ["x", "p"])], [const("p", [1, 1])]),
    # an index outside the data
    "gatherelements-index": graph([node("GatherElements", ["x", "i"], axis=0)], [const("i", [[9, 9, 9]])]),
    "scatterelements-index": graph(
        [node("ScatterElements", ["x", "i", "u"], axis=0)], [const("i", [[9, 9, 9]]), const("u", np.ones((1, 3)), np.float32)]
    ),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("op-*.onnx"):
        old.unlink()
    for case, model in CASES.items():
        (OUT / f"op-{case}.onnx").write_bytes(model.SerializeToString())
    print(f"{len(CASES)} malformed ONNX files in {OUT}")


if __name__ == "__main__":
    main()
