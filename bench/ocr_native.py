#!/usr/bin/env python3
"""RapidOCR itself, the native reference of bench/ocr.mjs: the rapidocr-onnxruntime wheel pinned in
tests/real/models.json (its code run from the wheel, its default configuration) on native
onnxruntime with one thread, reading one image `--rounds` times after one warm-up. Prints JSON: the
p50 of the whole call and of each stage, in milliseconds, and the texts read.

Usage: python3 bench/ocr_native.py --image FILE [--rounds N] [--packages DIR]
"""

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--packages", default=str(ROOT / "target" / "real-models" / "packages"))
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("prepare", ROOT / "tests" / "real" / "prepare.py")
    prepare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepare)
    pins = json.loads((ROOT / "tests" / "real" / "models.json").read_text())["packages"]
    wheel = prepare.fetch("rapidocr-onnxruntime", pins["rapidocr-onnxruntime"], Path(args.packages))
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as z:
            z.extractall(tmp)
        sys.path.insert(0, tmp)
        from rapidocr_onnxruntime import RapidOCR

        engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        result, _ = engine(args.image)
        totals, stages = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            result, elapsed = engine(args.image)
            totals.append(time.perf_counter() - start)
            stages.append(elapsed)
    ms = lambda xs: round(statistics.median(xs) * 1000, 1)
    print(json.dumps({
        "p50Ms": ms(totals),
        "stagesMs": {name: ms([s[i] for s in stages]) for i, name in enumerate(["detector", "classifier", "recognizer"])},
        "texts": [line[1] for line in result or []],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
