#!/usr/bin/env python3
"""Prepares the ONNX backend test cases for edgeserve's conformance runners.

Reads the cases that the `onnx` wheel ships under `onnx/backend/test/data/{simple,
pytorch-converted,pytorch-operator}` (the version is pinned in requirements.txt) and writes, per
case, into `<out>/cases/<suite>/<case>/`:

  case.json     {"id", "model" (absolute path of model.onnx), "skip" (null or why edgeserve's
                 run() cannot take the case), "sets": [{"inputs": [{name, dtype, shape, file}],
                 "outputs": [{name, dtype, shape, file}]}]}
  set<k>.in<i>.bin   the raw little-endian elements of input i of test_data_set_<k>
                     (bool as one byte per element)

The expected outputs stay in the wheel's output_<i>.pb files; report.py reads them with onnx's own
numpy_helper, so one decoder (onnx's) serves both the inputs and the reference.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

SUITES = ("simple", "pytorch-converted", "pytorch-operator")

# numpy dtype -> the dtype names of edgeserve's run() (the typed array each maps to is in the .d.ts)
DTYPES = {
    np.dtype("float32"): "float32",
    np.dtype("float64"): "float64",
    np.dtype("int8"): "int8",
    np.dtype("int16"): "int16",
    np.dtype("int32"): "int32",
    np.dtype("int64"): "int64",
    np.dtype("uint8"): "uint8",
    np.dtype("uint16"): "uint16",
    np.dtype("uint32"): "uint32",
    np.dtype("uint64"): "uint64",
    np.dtype("bool"): "bool",
}


def data_root() -> Path:
    return Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data"


def non_tensor(value_info) -> str | None:
    """Why a graph input or output is not a plain tensor, or None when it is one."""
    kind = value_info.type.WhichOneof("value")
    return None if kind == "tensor_type" else f"{value_info.name!r} is a {kind}"


def load_tensor(path: Path) -> np.ndarray:
    proto = onnx.TensorProto()
    proto.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(proto), proto.name


def prepare_case(suite: str, case_dir: Path, out: Path) -> dict:
    case_id = f"{suite}/{case_dir.name}"
    model_path = case_dir / "model.onnx"
    model = onnx.load(str(model_path))
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    graph_outputs = list(model.graph.output)
    record = {"id": case_id, "model": str(model_path.resolve()), "skip": None, "sets": []}

    reasons = [r for r in map(non_tensor, graph_inputs + graph_outputs) if r]
    if reasons:
        record["skip"] = f"run() takes and returns tensors; {reasons[0]}"
        return record

    dest = out / "cases" / suite / case_dir.name
    dest.mkdir(parents=True, exist_ok=True)
    for k, set_dir in enumerate(sorted(case_dir.glob("test_data_set_*"))):
        entry = {"inputs": [], "outputs": []}
        for i in range(len(list(set_dir.glob("input_*.pb")))):
            array, name = load_tensor(set_dir / f"input_{i}.pb")
            name = name or graph_inputs[i].name
            dtype = DTYPES.get(array.dtype)
            if dtype is None:
                kind = "a string tensor" if array.dtype == object else f"{array.dtype} values"
                record["skip"] = f"input {name!r} is {kind}, which has no typed array in run()"
                return record
            file = f"set{k}.in{i}.bin"
            raw = array.astype(array.dtype.newbyteorder("<"), copy=False)
            (dest / file).write_bytes(raw.astype(np.uint8).tobytes() if dtype == "bool" else raw.tobytes())
            entry["inputs"].append({"name": name, "dtype": dtype, "shape": list(array.shape), "file": file})
        for i in range(len(list(set_dir.glob("output_*.pb")))):
            array, name = load_tensor(set_dir / f"output_{i}.pb")
            name = name or graph_outputs[i].name
            entry["outputs"].append({
                "name": name,
                "dtype": DTYPES.get(array.dtype, str(array.dtype)),
                "shape": list(array.shape),
                "file": str((set_dir / f"output_{i}.pb").resolve()),
            })
        record["sets"].append(entry)
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="target/conformance", type=Path)
    args = parser.parse_args()
    root = data_root()
    cases = []
    for suite in SUITES:
        for case_dir in sorted(p for p in (root / suite).iterdir() if (p / "model.onnx").exists()):
            record = prepare_case(suite, case_dir, args.out)
            dest = args.out / "cases" / suite / case_dir.name
            dest.mkdir(parents=True, exist_ok=True)
            (dest / "case.json").write_text(json.dumps(record, indent=1))
            cases.append(record["id"])
    (args.out / "cases.json").write_text(json.dumps({"onnx": onnx.__version__, "cases": cases}, indent=1))
    skipped = 0
    for c in cases:
        skipped += json.loads((args.out / "cases" / c / "case.json").read_text())["skip"] is not None
    print(f"conformance: {len(cases)} cases from onnx {onnx.__version__} ({skipped} that run() cannot take)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
