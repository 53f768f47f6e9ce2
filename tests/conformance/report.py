#!/usr/bin/env python3
"""Compares the conformance runners' outputs with onnx's reference outputs and writes the report.

Reads `<dir>/out/{native,wasm}/<suite>/<case>/result.json` (written by native.rs and run-wasm.mjs)
and the expected `output_<i>.pb` of every case (read with onnx's numpy_helper), classifies each
case per side as

  pass         every output of every test data set matches (shape, dtype, values within tolerance)
  fail         a wrong output, or an error while loading or running (the error is shown)
  unsupported  an operator tract does not implement, or an input run() has no typed array for

and writes `tests/conformance/results.md`. Exits non-zero (the regression gate of `make test`)
when a case in `tests/conformance/pass-list.txt` no longer passes on either side, or when a case
passes natively but not in wasm (a bug of the wasm build). `--update` rewrites the pass list with
the cases that pass on both sides.

Tolerance: floating-point outputs match when |got - want| <= ATOL + RTOL * |want| element-wise
(NaN where the reference has NaN), integer and bool outputs must be equal.
"""

import argparse
import json
import platform
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

RTOL = 1e-3
ATOL = 1e-5
HERE = Path(__file__).resolve().parent
PASS_LIST = HERE / "pass-list.txt"
RESULTS = HERE / "results.md"
SIDES = ("native", "wasm")
NUMPY = {
    "float32": np.float32, "float64": np.float64, "int8": np.int8, "int16": np.int16,
    "int32": np.int32, "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16,
    "uint32": np.uint32, "uint64": np.uint64, "bool": np.uint8,
}
# What tract says when a graph holds an operator it does not implement.
UNSUPPORTED_OP = re.compile(r"[Uu]nimplemented|[Uu]nsupported operator|not implemented|[Uu]nknown operator")


def expected(path: str) -> np.ndarray:
    proto = onnx.TensorProto()
    proto.ParseFromString(Path(path).read_bytes())
    return numpy_helper.to_array(proto)


def compare(want: np.ndarray, got: dict, out_dir: Path) -> str | None:
    """None when `got` (an output a runner wrote) matches `want`, else what differs."""
    shape = tuple(got["shape"])
    if shape != want.shape:
        return f"output {got['name']!r}: shape {list(shape)}, expected {list(want.shape)}"
    want_kind = "float" if want.dtype.kind == "f" else str(want.dtype)
    if got["dtype"] not in NUMPY:
        return f"output {got['name']!r}: dtype {got['dtype']}"
    data = np.frombuffer((out_dir / got["file"]).read_bytes(), dtype=np.dtype(NUMPY[got["dtype"]]).newbyteorder("<"))
    if got["dtype"] == "bool":
        data = data.astype(bool)
    data = data.reshape(shape)
    got_kind = "float" if data.dtype.kind == "f" else str(data.dtype)
    if got_kind != want_kind:
        return f"output {got['name']!r}: dtype {got['dtype']}, expected {want.dtype}"
    if want_kind == "float":
        w = want.astype(np.float64)
        g = data.astype(np.float64)
        nan = np.isnan(w)
        if not np.array_equal(nan, np.isnan(g)):
            return f"output {got['name']!r}: NaN where the reference has a number, or the reverse"
        w, g = w[~nan], g[~nan]
        inf = np.isinf(w)
        if not np.array_equal(w[inf], g[inf]):
            return f"output {got['name']!r}: infinities differ"
        err = np.abs(g[~inf] - w[~inf])
        bad = err > ATOL + RTOL * np.abs(w[~inf])
        if bad.any():
            return f"output {got['name']!r}: {int(bad.sum())} of {bad.size} values off, max abs error {err.max():.3g}"
        return None
    if not np.array_equal(data, want):
        return f"output {got['name']!r}: {int((data != want).sum())} of {want.size} values differ"
    return None


def classify(case: dict, result: dict, out_dir: Path) -> tuple[str, str]:
    if result["status"] == "skipped":
        return "unsupported", result["error"]
    if result["status"] == "error":
        message = " ".join(result["error"].split())
        if result["stage"] == "load" and UNSUPPORTED_OP.search(message):
            return "unsupported", message
        return "fail", f"{result['stage']}: {message}"
    for k, (set_, outputs) in enumerate(zip(case["sets"], result["sets"])):
        if len(outputs) != len(set_["outputs"]):
            return "fail", f"set {k}: {len(outputs)} outputs, expected {len(set_['outputs'])}"
        for want, got in zip(set_["outputs"], outputs):
            problem = compare(expected(want["file"]), got, out_dir)
            if problem:
                return "fail", f"set {k}: {problem}"
    return "pass", ""


def versions() -> dict:
    lock = (HERE.parent.parent / "Cargo.lock").read_text()
    tract = re.search(r'name = "tract-onnx"\nversion = "([^"]+)"', lock)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {"onnx": onnx.__version__, "tract-onnx": tract.group(1) if tract else "?", "node": node,
            "machine": f"{platform.system()} {platform.machine()}"}


def cell(status: str) -> str:
    return {"pass": "pass", "fail": "**fail**", "unsupported": "unsupported"}[status]


def write_markdown(rows: list, v: dict) -> None:
    lines = [
        "# ONNX backend conformance",
        "",
        f"Written by `make conformance` (tests/conformance/report.py). Cases: the `simple`, `pytorch-converted`",
        f"and `pytorch-operator` backend test data of the onnx {v['onnx']} wheel. Engine: tract-onnx {v['tract-onnx']}",
        f"natively (edgeserve's core, `LoadedModel::from_bytes` + `run`) and the built npm package in Node",
        f"{v['node']} (`Model.fromBytes` + `model.run`, wasm32 +simd128), on {v['machine']}.",
        "",
        f"Tolerance: |got - want| <= {ATOL:g} + {RTOL:g} * |want| for floating-point outputs, NaN where the",
        "reference has NaN; integers and bools exactly. *unsupported*: tract has no implementation of an",
        "operator in the graph, or the case's inputs are tensors run() has no typed array for (strings).",
        "",
        "| suite | cases | native pass | native fail | native unsupported | wasm pass | wasm fail | wasm unsupported |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    suites = sorted({r["id"].split("/")[0] for r in rows}) + ["all"]
    for suite in suites:
        sel = [r for r in rows if suite == "all" or r["id"].startswith(suite + "/")]
        n = Counter(r["native"][0] for r in sel)
        w = Counter(r["wasm"][0] for r in sel)
        label = f"**{suite}**" if suite == "all" else suite
        lines.append(f"| {label} | {len(sel)} | {n['pass']} | {n['fail']} | {n['unsupported']} | {w['pass']} | {w['fail']} | {w['unsupported']} |")
    lines += ["", "| case | native | wasm | detail |", "|---|---|---|---|"]
    for r in rows:
        detail = r["wasm"][1] or r["native"][1]
        if r["native"][1] and r["wasm"][1] and r["native"][1] != r["wasm"][1]:
            detail = f"native: {r['native'][1]}; wasm: {r['wasm'][1]}"
        detail = detail.replace("|", "\\|")
        if len(detail) > 240:
            detail = detail[:237] + "..."
        lines.append(f"| {r['id']} | {cell(r['native'][0])} | {cell(r['wasm'][0])} | {detail} |")
    RESULTS.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="target/conformance", type=Path)
    parser.add_argument("--update", action="store_true", help="rewrite the pass list from this run")
    args = parser.parse_args()
    index = json.loads((args.dir / "cases.json").read_text())
    rows = []
    for case_id in index["cases"]:
        case = json.loads((args.dir / "cases" / case_id / "case.json").read_text())
        row = {"id": case_id}
        for side in SIDES:
            out_dir = args.dir / "out" / side / case_id
            result_file = out_dir / "result.json"
            if not result_file.exists():
                row[side] = ("fail", f"no result from the {side} runner")
                continue
            row[side] = classify(case, json.loads(result_file.read_text()), out_dir)
        rows.append(row)
    v = versions()
    write_markdown(rows, v)

    passing = {r["id"] for r in rows if r["native"][0] == "pass" and r["wasm"][0] == "pass"}
    listed = set(PASS_LIST.read_text().split()) if PASS_LIST.exists() else set()
    regressions = sorted(listed - passing)
    wasm_only_fails = sorted(r["id"] for r in rows if r["native"][0] == "pass" and r["wasm"][0] != "pass")
    for side in SIDES:
        c = Counter(r[side][0] for r in rows)
        print(f"conformance {side}: {c['pass']} pass, {c['fail']} fail, {c['unsupported']} unsupported of {len(rows)}")
    print(f"results: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    if args.update:
        PASS_LIST.write_text("".join(f"{i}\n" for i in sorted(passing)))
        print(f"pass list rewritten: {len(passing)} cases")
        return 0
    new = sorted(passing - listed)
    if new:
        shown = ", ".join(new[:5]) + (", ..." if len(new) > 5 else "")
        print(f"{len(new)} cases pass that the pass list lacks (make conformance-update adds them): {shown}")
    status = 0
    by_id = {r["id"]: r for r in rows}
    for i in regressions:
        r = by_id.get(i)
        why = "not run" if r is None else f"native {r['native'][0]}, wasm {r['wasm'][0]}: {r['wasm'][1] or r['native'][1]}"
        print(f"REGRESSION {i}: passed before, now {why}", file=sys.stderr)
        status = 1
    for i in wasm_only_fails:
        print(f"WASM BUG {i}: passes natively, not in wasm: {by_id[i]['wasm'][1]}", file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
