#!/usr/bin/env python3
"""Compares edgeserve's outputs on the real-model suite with onnxruntime's, and reports.

Reads what prepare.py wrote (<dir>/models/<id>/case.json, ref<i>.bin) and what the runners wrote
(<dir>/out/native/<id>/ from native.rs, <dir>/out/wasm/<id>/ from run-wasm.mjs, with the timings
of edgeserve and onnxruntime-web), writes tests/real/results.md (or --results), and exits 1 when
a model of tests/real/pass-list.txt no longer passes natively or in wasm (a model of the list
that was not prepared, as in make test's subset, is not checked).

A float output passes when |edgeserve - onnxruntime| <= atol + rtol * |onnxruntime| everywhere
(rtol 1e-3, atol 1e-4 unless the model's case says otherwise, with its reason); other outputs
must be equal. Shapes must be equal.

Usage: python3 tests/real/report.py [--dir target/real-models] [--results PATH] [--update]
  --update  rewrites the pass list from this run (the models that pass in both layers)
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NUMPY = {"float32": np.float32, "float64": np.float64, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
         "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64, "bool": np.bool_}


def load(path: Path, dtype: str, shape: list) -> np.ndarray:
    return np.frombuffer(path.read_bytes(), dtype=NUMPY[dtype]).reshape(shape)


def compare(case: dict, case_dir: Path, out_dir: Path) -> dict:
    """The layer's result for one model: status, the worst error, and its timings."""
    result_file = out_dir / "result.json"
    if not result_file.exists():
        return {"status": "missing", "error": "not run"}
    result = json.loads(result_file.read_text())
    if result.get("status") != "ran":
        return {"status": "error", "error": f"{result.get('stage')}: {result.get('error')}"}
    tolerance = case.get("tolerance") or {}
    rtol, atol = tolerance.get("rtol", 1e-3), tolerance.get("atol", 1e-4)
    worst = 0.0
    outputs = result["outputs"]
    if len(outputs) != len(case["outputs"]):
        return {"status": "fail", "error": f"{len(outputs)} outputs, onnxruntime gave {len(case['outputs'])}"}
    for ref, got in zip(case["outputs"], outputs):
        expected = load(case_dir / ref["file"], ref["dtype"], ref["shape"])
        if list(got["shape"]) != list(ref["shape"]):
            return {"status": "fail", "error": f"output {ref['name']}: shape {got['shape']}, onnxruntime {ref['shape']}"}
        actual = load(out_dir / got["file"], got["dtype"], got["shape"])
        if expected.dtype.kind == "f":
            e64, a64 = expected.astype(np.float64), actual.astype(np.float64)
            if not np.array_equal(np.isnan(e64), np.isnan(a64)):
                return {"status": "fail", "error": f"output {ref['name']}: NaN where onnxruntime has none (or the reverse)"}
            excess = np.abs(a64 - e64) - (atol + rtol * np.abs(e64))
            excess = np.nan_to_num(excess, nan=-1.0)
            diff = float(np.nanmax(np.abs(a64 - e64))) if e64.size else 0.0
            worst = max(worst, diff)
            if e64.size and excess.max() > 0:
                at = int(np.argmax(excess))
                return {"status": "fail", "error": f"output {ref['name']}: |diff| {diff:.3g} (at {at}: {a64.flat[at]:.6g} vs {e64.flat[at]:.6g}) beyond atol {atol} + rtol {rtol}", "max_abs": diff}
        elif got["dtype"] != ref["dtype"] and not (ref["dtype"] == "int64" and got["dtype"] == "int64"):
            return {"status": "fail", "error": f"output {ref['name']}: dtype {got['dtype']}, onnxruntime {ref['dtype']}"}
        elif not np.array_equal(expected, actual):
            return {"status": "fail", "error": f"output {ref['name']}: {int((expected != actual).sum())} values differ"}
    passed = {"status": "pass", "max_abs": worst}
    for key in ("load_ms", "first_ms", "p50_ms", "ort_load_ms", "ort_first_ms", "ort_p50_ms", "ort_error", "engine"):
        if key in result:
            passed[key] = result[key]
    return passed


def timings(path: Path) -> dict:
    """A timing-only result (bench/real-browser.mjs), or {} when there is none."""
    if not path.exists():
        return {}
    result = json.loads(path.read_text())
    return result if result.get("status") == "ran" else {}


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def cell(r: dict) -> str:
    if r["status"] == "pass":
        return f"pass ({r['max_abs']:.1e})"
    return f"{r['status']}: {r['error'][:160]}".replace("|", "\\|").replace("\n", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="target/real-models", type=Path)
    parser.add_argument("--results", default=HERE / "results.md", type=Path)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    ids = json.loads((args.dir / "cases.json").read_text())["cases"]
    rows, passing, table = [], [], []
    for id in ids:
        case_dir = args.dir / "models" / id
        case = json.loads((case_dir / "case.json").read_text())
        native = compare(case, case_dir, args.dir / "out" / "native" / id)
        wasm = compare(case, case_dir, args.dir / "out" / "wasm" / id)
        wasm["chromium"] = timings(args.dir / "out" / "chromium" / id / "result.json")
        rows.append((case, native, wasm))
        if native["status"] == "pass" and wasm["status"] == "pass":
            passing.append(id)

    pass_list_file = HERE / "pass-list.txt"
    listed = [l.strip() for l in pass_list_file.read_text().splitlines() if l.strip() and not l.startswith("#")] if pass_list_file.exists() else []
    broken = [id for id in listed if id in ids and id not in passing]

    lines = [
        "# Real models: edgeserve against onnxruntime",
        "",
        "Written by `make real-models` (tests/real/report.py); models and inputs in tests/real/models.json.",
        "Outputs compared with onnxruntime (CPU, one thread) on the same inputs; the figure in a pass is the largest",
        "absolute difference. Timings in Node, one thread each, in one process: edgeserve's npm package (wasm) and",
        "onnxruntime-web's wasm backend, in Node and in headless Chromium (bench/real-browser.mjs); *load* is from the",
        "model's bytes to the first result; ratios are edgeserve / onnxruntime-web (below 1: edgeserve is faster). One run on",
        "the machine that made it (its figures move by tens of percent from run to run on a busy two-core machine).",
        "",
        "| model | kind | package | MB | native | wasm (Node) | Node p50 ms edgeserve / ort-web | ratio | Chromium p50 ms | ratio | Node load+first ms | ratio | Chromium load+first ms | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    logs = []
    fmt = lambda v: f"{v:.2f}" if v else "-"
    load = lambda r, prefix="": ((r.get(f"{prefix}load_ms") or 0) + (r.get(f"{prefix}first_ms") or 0)) or None
    for case, native, wasm in rows:
        chromium = wasm["chromium"]
        cells = []
        for r in (wasm, chromium):
            cells += [f"{fmt(r.get('p50_ms'))} / {fmt(r.get('ort_p50_ms'))}", ratio(r.get("p50_ms"), r.get("ort_p50_ms"))]
        for r in (wasm, chromium):
            cells += [f"{fmt(load(r))} / {fmt(load(r, 'ort_'))}", ratio(load(r), load(r, "ort_"))]
        lines.append(f"| {case['id']} | {case['kind']} | {case['package']} | {case['bytes'] / 1e6:.1f} | {cell(native)} | {cell(wasm)} | " + " | ".join(cells) + " |")
        logs.append((case["id"], native, wasm))
    lines.append("")
    for where, pick in (("Node", lambda w: w), ("Chromium", lambda w: w["chromium"])):
        measured = [pick(w) for _, _, w in rows if pick(w).get("p50_ms") and pick(w).get("ort_p50_ms")]
        if not measured:
            continue
        ratios = [r["p50_ms"] / r["ort_p50_ms"] for r in measured]
        loads = [load(r) / load(r, "ort_") for r in measured if load(r) and load(r, "ort_")]
        geo = math.exp(sum(map(math.log, ratios)) / len(ratios))
        over = sum(r > 1.2 for r in ratios)
        faster_load = sum(l <= 1.0 for l in loads)
        lines.append(
            f"{where}: geometric mean of edgeserve / onnxruntime-web p50 over {len(ratios)} models {geo:.2f} (target <= 0.8); "
            f"{over} above 1.2 (target none); first load within 1.0x of onnxruntime-web's for {faster_load} of {len(loads)} (target all)."
        )
    lines += ["", f"{len(passing)} of {len(rows)} models pass natively and in wasm.", ""]
    notes = [(id, n.get("engine") or w.get("engine")) for id, n, w in logs if (n.get("engine") or w.get("engine"))]
    if notes:
        lines += ["## How the engine ran them", ""]
        for id, engine in notes:
            said = "; ".join(engine.get("notes") or []) or "nothing done differently from tract's defaults"
            lines.append(f"- {id}: {engine.get('executor')}, typing {engine.get('typing')}: {said}")
        lines.append("")
    args.results.write_text("\n".join(lines))
    print("\n".join(lines[7:]))
    if args.update:
        pass_list_file.write_text("# Real models that pass natively and in wasm (report.py --update writes it).\n" + "".join(f"{id}\n" for id in passing))
    if broken:
        raise SystemExit(f"real models that stopped passing: {broken}")


if __name__ == "__main__":
    main()
