#!/usr/bin/env python3
"""A small text classifier package for the tests (tests/fixtures/text/sentiment/), made with the
Python `tokenizers` package and onnx.helper, small enough to commit and to compile into the wasm
tests (tests/web.rs): a WordPiece tokenizer over a vocabulary of a few dozen words (lower-casing,
BERT's pre-tokenizer, [CLS] ... [SEP]), and a graph that averages word vectors over the attention
mask and scores two classes:

    E = Gather(table [V, 4], input_ids)                  word vectors, [N, L, 4]
    m = Cast(attention_mask, float) [N, L, 1]
    mean = ReduceSum(E * m, axis 1) / max(ReduceSum(m, axis 1), 1)
    scores = Softmax(mean @ W [4, 2] + b)                ["negative", "positive"], [N, 2]

The word vectors are set by hand: dimension 0 is the word's sentiment (+1 for "good", "great",
"love", ...; -1 for "bad", "awful", "hate", ...; 0 otherwise), the others are small fixed noise,
so that the predictions are the ones a reader expects. golden.json holds the Python tokenizers'
ids and onnxruntime's scores for a few texts.

Usage: python3 training/text_fixtures.py
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "text" / "sentiment"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
POSITIVE = ["good", "great", "love", "excellent", "happy", "wonderful", "best", "nice", "fun", "##ly"]
NEGATIVE = ["bad", "awful", "hate", "terrible", "sad", "worst", "boring", "poor", "ugly", "not"]
NEUTRAL = ["the", "a", "movie", "film", "book", "food", "was", "is", "it", "i", "this", "and", "very",
           "really", "so", "day", "show", "music", "play", "ed", "##ed", "##s", "##ing", "!", ".", ","]
TEXTS = ["I love this movie!", "This film was awful.", "The food is good and the music is great.",
         "Boring, bad and ugly.", "It is a day.", "not good", "Wonderfully happy", "HATE it", "", "zzz unknown words"]


def tokenizer() -> Tokenizer:
    vocab = {w: i for i, w in enumerate(SPECIAL + POSITIVE + NEGATIVE + NEUTRAL)}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.enable_padding(pad_id=vocab["[PAD]"], pad_token="[PAD]")
    return tok


def graph(vocab_size: int, vocab: dict) -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    table = (rng.standard_normal((vocab_size, 4)) * 0.05).astype(np.float32)
    table[:, 0] = 0.0
    for w in POSITIVE:
        table[vocab[w], 0] = 1.0
    for w in NEGATIVE:
        table[vocab[w], 0] = -1.0
    w = np.array([[-3.0, 3.0], [0.1, -0.1], [0.2, 0.0], [0.0, 0.3]], dtype=np.float32)
    b = np.array([0.05, -0.05], dtype=np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["vectors"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["vectors", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["total"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Max", ["count", "one"], ["count1"]),
        helper.make_node("Div", ["total", "count1"], ["mean"]),
        helper.make_node("MatMul", ["mean", "w"], ["logits0"]),
        helper.make_node("Add", ["logits0", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["scores"], axis=1),
    ]
    g = helper.make_graph(
        nodes, "sentiment",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", "L"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["N", "L"])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
         numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"), numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
         numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")],
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgeserve-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tok = tokenizer()
    (OUT / "tokenizer.json").write_text(tok.to_str(pretty=True) + "\n")
    vocab = tok.get_vocab()
    onnx.save(graph(tok.get_vocab_size(), vocab), str(OUT / "model.onnx"))
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    manifest = {
        "name": "sentiment",
        "version": "1.0.0",
        "description": "A toy text classifier for the tests: averaged hand-set word vectors, two classes.",
        "task": "classification",
        "inputs": [{"name": n, "dtype": "int64", "shape": ["N", "L"]} for n in ("input_ids", "attention_mask")],
        "outputs": [{"name": "scores", "dtype": "float32", "shape": ["N", 2], "role": "scores"}],
        "labels": ["negative", "positive"],
        "preprocessing": {
            "type": "text",
            "tokenizer": {"file": "tokenizer.json", "sha256": sha(OUT / "tokenizer.json")},
            "maxLength": 16,
            "inputs": {"ids": "input_ids", "attentionMask": "attention_mask"},
            "maxTexts": 8,
        },
        "sha256": sha(OUT / "model.onnx"),
        "default": False,
        "training": {"made by": "training/text_fixtures.py (hand-set weights)"},
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    # References: each text alone (truncated to maxLength, no padding), through onnxruntime.
    tok.no_padding()
    tok.enable_truncation(16)
    session = ort.InferenceSession(str(OUT / "model.onnx"), providers=["CPUExecutionProvider"])
    cases = []
    for text in TEXTS:
        e = tok.encode(text)
        feeds = {"input_ids": np.array([e.ids], dtype=np.int64), "attention_mask": np.array([e.attention_mask], dtype=np.int64)}
        scores = session.run(["scores"], feeds)[0][0]
        cases.append({"text": text, "ids": e.ids, "tokens": e.tokens, "label": manifest["labels"][int(scores.argmax())], "scores": scores.tolist()})
    (OUT / "golden.json").write_text(json.dumps({"cases": cases}, indent=1, ensure_ascii=False) + "\n")
    for c in cases:
        print(f"{c['label']:8} {c['scores'][1]:.3f} {c['tokens']} {c['text']!r}")


if __name__ == "__main__":
    main()
