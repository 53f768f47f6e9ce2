#!/usr/bin/env python3
"""A small voice-activity package for the tests of the wasm boundary (tests/web.rs, in Node and
in Chromium), where the real package `vad` (made by `make models-audio` from its PyPI wheel, not
committed) cannot be compiled in: tests/fixtures/audio/sequence/, made with onnx.helper and
seeded weights, with onnxruntime's outputs recorded next to it.

- model.onnx: the shape of Silero VAD's sequence graph, small. Input `input` float32
  [N, 8 + 16]: N consecutive chunks of 1 ms at 16 kHz, each the last 8 samples of the previous
  chunk, then 16 new ones; `h` and `c` float32 [1, 1, 4], an LSTM's state. A dense layer with
  Relu on each chunk, an LSTM (hidden 4) over the N chunks, a dense layer and a sigmoid:
  `speech_probs` [N], the state after the last chunk `hn` and `cn`.
- manifest.json: task voice-activity, audio preprocessing at 16 kHz with `sequence`, the state
  pairs h -> hn and c -> cn, settings scaled to its 1 ms chunks.
- reference.json: a signal of 700 chunks (bursts of a tone between silences, a little noise), as
  16-bit PCM (`pcm16`: the samples are these over 32768), and onnxruntime's
  probability of each chunk, fed one chunk a run with the state passed on and the context carried
  (the last chunk padded with zeros), as silero-vad's OnnxWrapper feeds its graph.

Usage: python3 training/audio_fixtures.py
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio" / "sequence"
RATE, FRAME, CONTEXT, HIDDEN, WIDTH = 16000, 16, 8, 4, 12


def graph() -> onnx.ModelProto:
    rng = np.random.default_rng(20261130)
    chunk = CONTEXT + FRAME
    state = [1, 1, HIDDEN]
    inputs = [
        helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", chunk]),
        helper.make_tensor_value_info("h", TensorProto.FLOAT, state),
        helper.make_tensor_value_info("c", TensorProto.FLOAT, state),
    ]
    outputs = [
        helper.make_tensor_value_info("speech_probs", TensorProto.FLOAT, ["N"]),
        helper.make_tensor_value_info("hn", TensorProto.FLOAT, state),
        helper.make_tensor_value_info("cn", TensorProto.FLOAT, state),
    ]
    f = lambda a: a.astype(np.float32)
    inits = [
        numpy_helper.from_array(f(rng.normal(size=(chunk, WIDTH)) * 2.0), "w1"),
        numpy_helper.from_array(f(rng.normal(size=(WIDTH,)) * 0.1), "b1"),
        numpy_helper.from_array(f(rng.normal(size=(1, 4 * HIDDEN, WIDTH))), "w"),
        numpy_helper.from_array(f(rng.normal(size=(1, 4 * HIDDEN, HIDDEN))), "r"),
        numpy_helper.from_array(f(rng.normal(size=(1, 8 * HIDDEN)) * 0.1), "b"),
        numpy_helper.from_array(f(rng.normal(size=(HIDDEN, 1)) * 2.0), "w2"),
        numpy_helper.from_array(f(np.zeros(1)), "b2"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array([-1, HIDDEN], np.int64), "rows"),
        numpy_helper.from_array(np.array([-1], np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "w1"], ["dense"]),
        helper.make_node("Add", ["dense", "b1"], ["biased"]),
        helper.make_node("Relu", ["biased"], ["features"]),
        helper.make_node("Unsqueeze", ["features", "one"], ["sequence"]),
        helper.make_node("LSTM", ["sequence", "w", "r", "b", "", "h", "c"], ["y", "hn", "cn"], hidden_size=HIDDEN),
        helper.make_node("Reshape", ["y", "rows"], ["steps"]),
        helper.make_node("MatMul", ["steps", "w2"], ["logit"]),
        helper.make_node("Add", ["logit", "b2"], ["shifted"]),
        helper.make_node("Sigmoid", ["shifted"], ["probs"]),
        helper.make_node("Reshape", ["probs", "flat"], ["speech_probs"]),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "sequence", inputs, outputs, initializer=inits),
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="edgeserve-fixtures",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def signal() -> np.ndarray:
    """700 chunks: tone bursts of 40 to 120 ms between silences, with a little noise."""
    rng = np.random.default_rng(7)
    out = []
    for burst, pause in [(60, 50), (120, 30), (40, 80), (90, 60), (70, 100)]:
        t = np.arange(burst * FRAME) / RATE
        out += [0.5 * np.sin(2 * np.pi * 440 * t), np.zeros(pause * FRAME)]
    x = np.concatenate(out)[: 700 * FRAME - 5]  # the last chunk is padded
    return np.round((x + rng.normal(0, 0.01, len(x))) * 32767).astype(np.int16)


def probabilities(session: ort.InferenceSession, audio: np.ndarray) -> list[float]:
    padded = np.concatenate([audio, np.zeros((-len(audio)) % FRAME, np.float32)])
    h = c = np.zeros((1, 1, HIDDEN), np.float32)
    context = np.zeros(CONTEXT, np.float32)
    out = []
    for i in range(0, len(padded), FRAME):
        x = np.concatenate([context, padded[i:i + FRAME]])[None, :]
        p, h, c = session.run(None, {"input": x, "h": h, "c": c})
        out.append(float(p[0]))
        context = x[0, -CONTEXT:]
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = graph().SerializeToString()
    (OUT / "model.onnx").write_bytes(data)
    state = [1, 1, HIDDEN]
    manifest = {
        "name": "vad-small",
        "version": "1.0.0",
        "description": "A small voice-activity graph for the tests: Silero VAD's sequence graph in shape, seeded weights.",
        "task": "voice-activity",
        "inputs": [
            {"name": "input", "dtype": "float32", "shape": ["N", CONTEXT + FRAME]},
            {"name": "h", "dtype": "float32", "shape": state},
            {"name": "c", "dtype": "float32", "shape": state},
        ],
        "outputs": [
            {"name": "speech_probs", "dtype": "float32", "shape": ["N"], "role": "probability"},
            {"name": "hn", "dtype": "float32", "shape": state, "role": "state"},
            {"name": "cn", "dtype": "float32", "shape": state, "role": "state"},
        ],
        "preprocessing": {"type": "audio", "sampleRate": RATE, "frame": FRAME, "context": CONTEXT, "input": "input", "sequence": True},
        "state": [
            {"input": "h", "output": "hn", "shape": state, "initial": 0.0},
            {"input": "c", "output": "cn", "shape": state, "initial": 0.0},
        ],
        "voiceActivity": {"threshold": 0.5, "minSpeechMs": 20, "minSilenceMs": 10, "speechPadMs": 2},
        "sha256": hashlib.sha256(data).hexdigest(),
        "training": {"made by": "training/audio_fixtures.py"},
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    pcm = signal()
    probs = probabilities(session, pcm.astype(np.float32) / 32768)
    reference = {"reference": f"onnxruntime {ort.__version__}", "pcm16": pcm.tolist(), "probabilities": probs}
    (OUT / "reference.json").write_text(json.dumps(reference) + "\n")
    print(f"wrote {OUT}: {len(probs)} chunks, probabilities {min(probs):.3f} to {max(probs):.3f}")


if __name__ == "__main__":
    main()
