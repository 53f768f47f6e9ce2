#!/usr/bin/env python3
"""Train edgeserve's model packages on scikit-learn's handwritten digits and write them out.

Writes, for each package, models/<name>/{model.onnx, manifest.json, golden.json}:

- digits-fast      logistic regression (small, fast)
- digits-accurate  a multi-layer perceptron 64-256-128-10 (the default package)

plus tests/fixtures/models/digits-ink (a regression package used by the tests only) and
www/data/digits-test.csv (the held-out test split with its labels, raw 0..16 intensities).

Everything is seeded: running it twice gives the same packages. The models see pixel
intensities scaled to 0..1; that scaling is edgeserve's preprocessing (written into the
manifest), so callers always pass raw 0..16 intensities. The reference outputs in golden.json
and the accuracy in the manifest come from onnxruntime running the exported ONNX file, i.e. from
exactly the bytes that edgeserve serves.

Usage: python3 training/train.py [--out REPO_ROOT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

SEED = 42
MAX_BATCH_ROWS = 100_000
TEST_SIZE = 0.25
SCALE = 1.0 / 16.0  # raw 0..16 intensities -> 0..1, applied by edgeserve before the model
GOLDEN_CASES = 32
# The opsets tract-onnx 0.23 implements for these graphs.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
LABELS = [str(i) for i in range(10)]


def name_batch_dim(model: onnx.ModelProto) -> None:
    """skl2onnx leaves the batch dimension unnamed; edgeserve's manifests call it "N"."""
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) > 0 and not dims[0].dim_value:
            dims[0].dim_param = "N"


def export(estimator, sample: np.ndarray, doc: str, labels: list[str] | None) -> bytes:
    options = {id(estimator): {"zipmap": False}} if labels is not None else None
    model = to_onnx(estimator, sample, options=options, target_opset=TARGET_OPSET)
    name_batch_dim(model)
    model.doc_string = doc
    model.producer_name = "edgeserve-training"
    if labels is not None:
        entry = model.metadata_props.add()
        entry.key = "labels"
        entry.value = json.dumps(labels)
    onnx.checker.check_model(model)
    return model.SerializeToString()


ONNX_DTYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
}


def io_spec(values, roles: dict[str, str] | None = None) -> list[dict]:
    """The manifest's view of graph inputs or outputs, read from the ONNX file itself."""
    spec = []
    for value in values:
        tt = value.type.tensor_type
        shape = [d.dim_param if d.dim_param else d.dim_value for d in tt.shape.dim]
        entry = {"name": value.name, "dtype": ONNX_DTYPES[tt.elem_type], "shape": shape}
        if roles is not None:
            entry["role"] = roles[value.name]
        spec.append(entry)
    return spec


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


def write_package(
    root: Path,
    name: str,
    description: str,
    onnx_bytes: bytes,
    task: str,
    roles: dict[str, str],
    default: bool,
    X_test_raw: np.ndarray,
    y_test: np.ndarray,
    metrics: dict,
    extra_training: dict,
) -> dict:
    """Run the exported model in onnxruntime, then write model.onnx, manifest.json, golden.json."""
    model = onnx.load_from_string(onnx_bytes)
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    X_in = (X_test_raw * SCALE).astype(np.float32)
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, {input_name: X_in})))

    manifest = {
        "name": name,
        "version": "1.0.0",
        "description": description,
        "task": task,
        "inputs": io_spec(model.graph.input),
        "outputs": io_spec(model.graph.output, roles),
        "preprocessing": {"type": "affine", "scale": SCALE, "offset": 0.0, "range": [0.0, 16.0]},
        "metrics": metrics,
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "default": default,
        "training": {
            "dataset": "sklearn.datasets.load_digits",
            "seed": SEED,
            "testSize": TEST_SIZE,
            "scikitLearn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnxruntime": ort.__version__,
            **extra_training,
        },
    }
    if task == "classification":
        manifest["labels"] = LABELS
    # One batch call takes at most this many rows (a larger one is refused before any row runs).
    manifest["limits"] = {"maxBatchRows": MAX_BATCH_ROWS}

    label_out = next((k for k, v in roles.items() if v == "label"), None)
    scores_out = next((k for k, v in roles.items() if v == "scores"), None)
    value_out = next((k for k, v in roles.items() if v == "value"), None)
    cases = []
    for i in range(GOLDEN_CASES):
        case = {"input": [float(v) for v in X_test_raw[i]], "truth": float(y_test[i])}
        if task == "classification":
            index = int(outputs[label_out][i])
            case["truth"] = LABELS[int(y_test[i])]
            case["expected"] = {
                "label": LABELS[index],
                "index": index,
                "scores": [float(v) for v in outputs[scores_out][i]],
            }
        else:
            case["expected"] = {"values": [float(v) for v in np.ravel(outputs[value_out][i])]}
        cases.append(case)
    golden = {
        "model": name,
        "sha256": manifest["sha256"],
        "reference": f"onnxruntime {ort.__version__} (CPUExecutionProvider)",
        "note": "inputs are raw features (before preprocessing); expected are the model's outputs",
        "cases": cases,
    }

    out = root / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_bytes)
    write_json(out / "manifest.json", manifest)
    write_json(out / "golden.json", golden)
    return outputs


def accuracy_from_onnx(onnx_bytes: bytes, X_raw: np.ndarray, y: np.ndarray) -> float:
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    labels = session.run(["label"], {session.get_inputs()[0].name: (X_raw * SCALE).astype(np.float32)})[0]
    return float(np.mean(labels == y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent), help="repository root")
    args = parser.parse_args()
    repo = Path(args.out)
    os.environ.setdefault("PYTHONHASHSEED", str(SEED))
    np.random.seed(SEED)

    X, y = load_digits(return_X_y=True)
    X_train_raw, X_test_raw, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y
    )
    X_train = (X_train_raw * SCALE).astype(np.float32)
    sample = X_train[:1]
    n_test = len(y_test)

    def metrics(acc: float) -> dict:
        return {"dataset": "sklearn-digits", "split": f"held-out test ({n_test} rows, seed {SEED})", "accuracy": round(acc, 6)}

    classification_roles = {"label": "label", "probabilities": "scores"}
    results = {}

    classifiers = [
        # (name, estimator, description in the manifest, default?, estimator in the manifest, model kind)
        (
            "digits-fast",
            LogisticRegression(C=0.5, max_iter=5000, random_state=SEED),
            "Handwritten digit classifier (8x8, 0..16 intensities): multinomial logistic regression. "
            "Small and fast; a little less accurate.",
            False,
            "LogisticRegression(C=0.5)",
            "logistic regression",
        ),
        (
            "digits-accurate",
            MLPClassifier(hidden_layer_sizes=(256, 128), alpha=1e-3, max_iter=600, random_state=SEED),
            "Handwritten digit classifier (8x8, 0..16 intensities): a multi-layer perceptron "
            "64-256-128-10 with ReLU. The default package.",
            True,
            "MLPClassifier(hidden_layer_sizes=(256, 128), alpha=1e-3)",
            "MLP 64-256-128-10",
        ),
    ]
    for name, estimator, description, default, estimator_desc, kind in classifiers:
        estimator.fit(X_train, y_train)
        onnx_bytes = export(estimator, sample, f"edgeserve {name}: {kind} on 8x8 digits", LABELS)
        acc = accuracy_from_onnx(onnx_bytes, X_test_raw, y_test)
        results[name] = acc
        write_package(
            repo / "models", name, description, onnx_bytes, "classification", classification_roles, default,
            X_test_raw, y_test, metrics(acc), {"estimator": estimator_desc},
        )

    # A regression package for the tests: predict the amount of ink (mean raw intensity) of the
    # lower half of the image from the upper half. Not shipped in the npm package.
    ink = LinearRegression()
    half = X_train_raw[:, 32:].mean(axis=1)
    ink.fit(X_train, half)
    ink_bytes = export(ink, sample, "edgeserve test fixture: ink of the lower half from all pixels", None)
    write_package(
        repo / "tests" / "fixtures" / "models", "digits-ink",
        "Test fixture (regression): mean raw intensity of the lower half of a digit.",
        ink_bytes, "regression", {"variable": "value"}, True, X_test_raw, X_test_raw[:, 32:].mean(axis=1),
        {"dataset": "sklearn-digits", "split": f"held-out test ({n_test} rows, seed {SEED})", "r2": round(float(ink.score((X_test_raw * SCALE).astype(np.float32), X_test_raw[:, 32:].mean(axis=1))), 6)},
        {"estimator": "LinearRegression()"},
    )

    # The held-out test set for the page's batch panel and the Node example.
    data = repo / "www" / "data"
    data.mkdir(parents=True, exist_ok=True)
    header = ",".join([f"p{i}" for i in range(64)] + ["label"])
    lines = [header] + [",".join([str(int(v)) for v in row] + [str(int(t))]) for row, t in zip(X_test_raw, y_test)]
    (data / "digits-test.csv").write_text("\n".join(lines) + "\n")

    if not results["digits-accurate"] > results["digits-fast"]:
        raise SystemExit(f"digits-accurate ({results['digits-accurate']}) is not more accurate than digits-fast ({results['digits-fast']})")
    for name, acc in results.items():
        print(f"{name}: held-out accuracy {acc:.4f} on {n_test} rows")


if __name__ == "__main__":
    main()
