#!/usr/bin/env python3
"""Makes the audio model package `vad` (voice activity detection, Silero VAD v6, MIT) from the
PyPI wheel silero-vad, pinned by version and sha256 in tests/real/models.json, with its test
recordings and references (`make models-audio`).

The package is made at build time into target/, not committed, like the text packages: its graph
is the wheel's file, and the recordings are made here in seconds.

The graph is the wheel's silero_vad_16k_sequence.onnx: inputs `input` (float [S, 64 + 512]: S
consecutive chunks of a stream, each the last 64 samples of the previous chunk, then 512 new ones,
at 16 kHz), `h` and `c` (float [1, 1, 128], the LSTM's state); outputs `speech_probs` (float [S],
the speech probability of each chunk), `hn` and `cn` (the state after the last chunk). Its LSTM
runs over the S chunks, carrying its state from each to the next, and its convolutions take the
S chunks as a batch: a whole recording runs in blocks of chunks (preprocessing `sequence`), where
the graph silero-vad's OnnxWrapper loads, silero_vad.onnx, takes one chunk per run. The two give
the same probabilities (this script checks it on every recording: `sequenceAgreement`); the
sequence graph takes 16 kHz only, and the package resamples every rate to 16 kHz anyway. The
package names its dimensions: the chunks "N", the LSTM's batch 1. tract runs it
(tests/real/results.md), as it runs every other graph of the wheel.

The package directory (--out, default target/models-audio) holds:
- vad/model.onnx and vad/manifest.json (preprocessing `audio`, the `state` pair `state` ->
  `stateN`, task `voice-activity` with silero-vad's default thresholds and durations);
- audio/*.wav: test recordings made here (espeak-ng speaking known phrases with silences of known
  lengths between them, white noise added at several levels, written at 8, 16, 44.1 and 48 kHz as
  16-bit PCM);
- vad/golden.json: `decoderCases`, silero-vad's segments of made-up probabilities under several
  settings (edgeserve's decoder alone); and for each recording, where its phrases are (`truth`, seconds), and the
  references: onnxruntime's speech probability of every chunk, fed as silero-vad's OnnxWrapper
  feeds them (context carried over, state passed from chunk to chunk, the last chunk padded with
  zeros); the speech segments of silero-vad's own `get_speech_timestamps_from_probs` on those
  probabilities (what its `get_speech_timestamps` returns); and the start and end events of its
  streaming `VADIterator`. At 16 kHz the chunks are the file's own samples; at the other rates
  the recording is first resampled to 16 kHz here with scipy's resample_poly (edgeserve
  resamples with rubato, so these references are compared with a tolerance).

silero-vad's utilities import torch at the top of their module, and neither function used here
touches it: utils_vad.py is loaded from the wheel with a stand-in `torch` module that provides only
what the module's definitions name (decorators, annotations, default arguments), and VADIterator
gets a model that returns onnxruntime's probabilities. torch itself (and its 4 GB of CUDA
libraries) is not needed.

Usage: python3 training/audio_packages.py [--out target/models-audio] [--packages DIR]
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import types
import wave
import zipfile
from math import gcd
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
WHEEL = "silero-vad"
GRAPH = "silero_vad/data/silero_vad_16k_sequence.onnx"
# The reference: the graph silero-vad's own OnnxWrapper loads, one chunk per run.
REFERENCE_GRAPH = "silero_vad/data/silero_vad.onnx"
UTILS = "silero_vad/utils_vad.py"

MODEL_RATE = 16000
FRAME = 512
CONTEXT = 64
MASTER_RATE = 48000
RATES = [8000, 16000, 44100, 48000]

# silero-vad's defaults (get_speech_timestamps and VADIterator).
SETTINGS = {"threshold": 0.5, "minSpeechMs": 250, "minSilenceMs": 100, "speechPadMs": 30}

# Phrases and the silence after each one (seconds): long and short pauses, one shorter than the
# default minimum silence would merge only if it were under 100 ms.
PHRASES = [
    ("The quick brown fox jumps over the lazy dog.", 0.8),
    ("Edge serving runs the model on the device of the user.", 0.3),
    ("Please call me back in ten minutes.", 1.5),
    ("Voice activity detection finds where people speak.", 0.5),
    ("Silence between the phrases has a known length.", 1.0),
]
LEAD_SECONDS = 0.7
# Noise levels: signal-to-noise ratio in dB over the speech (None: no noise).
NOISE = {"clean": None, "snr20": 20.0, "snr5": 5.0}


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def silero_utils(wheel: Path, work: Path):
    """silero-vad's utils_vad module from the wheel, imported with a stand-in for torch."""
    with zipfile.ZipFile(wheel) as z:
        (work / "utils_vad.py").write_bytes(z.read(UTILS))
    stand_in = types.ModuleType("torch")
    stand_in.no_grad = lambda: (lambda f: f)
    stand_in.Tensor = np.ndarray
    stand_in.device = lambda *args, **kwargs: None
    stand_in.is_tensor = lambda x: isinstance(x, np.ndarray)
    saved = sys.modules.get("torch")
    sys.modules["torch"] = stand_in
    try:
        return load_module(work / "utils_vad.py", "silero_utils_vad")
    finally:
        if saved is None:
            del sys.modules["torch"]
        else:
            sys.modules["torch"] = saved


def speak(text: str, work: Path) -> tuple[np.ndarray, int]:
    """espeak-ng's voice saying `text`, trimmed of its leading and trailing silence."""
    path = work / "phrase.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), text], check=True)
    samples, rate = read_wav(path)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[loud[0]:loud[-1] + 1], rate


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.astype(np.float32) / 32768.0, w.getframerate()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> np.ndarray:
    """Writes 16-bit PCM; returns the samples as they read back (what every reader sees)."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return pcm.astype(np.float32) / 32768.0


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    g = gcd(rate_in, rate_out)
    return resample_poly(x.astype(np.float64), rate_out // g, rate_in // g).astype(np.float32)


def recording(work: Path) -> tuple[np.ndarray, list[dict]]:
    """The speech at MASTER_RATE, and where each phrase is (seconds)."""
    parts = [np.zeros(int(LEAD_SECONDS * MASTER_RATE), np.float32)]
    truth = []
    at = len(parts[0])
    for text, pause in PHRASES:
        voice, rate = speak(text, work)
        voice = resample(voice, rate, MASTER_RATE)
        voice *= 0.5 / np.abs(voice).max()
        truth.append({"start": at / MASTER_RATE, "end": (at + len(voice)) / MASTER_RATE, "text": text})
        silence = np.zeros(int(pause * MASTER_RATE), np.float32)
        parts += [voice, silence]
        at += len(voice) + len(silence)
    return np.concatenate(parts), truth


def name_dimensions(path: Path) -> None:
    """Names the dimensions of the graph's inputs and outputs (the wheel's file calls the chunks
    "sequence_length" and leaves the LSTM's batch free): the chunks "N", the LSTM's batch 1.
    Nothing else changes."""
    model = onnx.load(str(path))
    state = [1, 1, 128]
    shapes = {"input": ["N", CONTEXT + FRAME], "h": state, "c": state, "speech_probs": ["N"], "hn": state, "cn": state}
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        del dims[:]
        for d in shapes[value.name]:
            dim = dims.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = d
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def sequence_probabilities(session: ort.InferenceSession, audio: np.ndarray) -> list[float]:
    """The package graph's probabilities of the same chunks as `probabilities`, all in one run."""
    padded = np.concatenate([np.zeros(CONTEXT, np.float32), audio, np.zeros((-len(audio)) % FRAME, np.float32)])
    chunks = np.stack([padded[i:i + CONTEXT + FRAME] for i in range(0, len(padded) - CONTEXT, FRAME)])
    state = np.zeros((1, 1, 128), np.float32)
    probs, _, _ = session.run(None, {"input": chunks, "h": state, "c": state})
    return [float(p) for p in probs]


def probabilities(session: ort.InferenceSession, audio: np.ndarray) -> list[float]:
    """One speech probability per chunk of FRAME samples at 16 kHz, as silero-vad's OnnxWrapper
    computes them: the last CONTEXT samples of the previous input before each chunk (zeros before
    the first), the state carried over, the last chunk padded with zeros."""
    padded = np.concatenate([audio, np.zeros((-len(audio)) % FRAME, np.float32)])
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros(CONTEXT, np.float32)
    out = []
    for i in range(0, len(padded), FRAME):
        x = np.concatenate([context, padded[i:i + FRAME]])[None, :]
        prob, state = session.run(None, {"input": x, "state": state, "sr": np.array(MODEL_RATE, dtype=np.int64)})
        out.append(float(prob[0, 0]))
        context = x[0, -CONTEXT:]
    return out


def streamed_events(utils, probs: list[float]) -> list[dict]:
    """silero-vad's VADIterator over the chunks, its model answering with `probs`."""

    class Recorded:
        def __init__(self):
            self.i = 0

        def reset_states(self):
            self.i = 0

        def __call__(self, x, sr):
            p = probs[self.i]
            self.i += 1
            return np.array(p)

    class Chunk(np.ndarray):
        def dim(self):
            return self.ndim

    iterator = utils.VADIterator(Recorded(), threshold=SETTINGS["threshold"], sampling_rate=MODEL_RATE,
                                 min_silence_duration_ms=SETTINGS["minSilenceMs"], speech_pad_ms=SETTINGS["speechPadMs"])
    chunk = np.zeros(FRAME, np.float32).view(Chunk)
    events = []
    for i in range(len(probs)):
        event = iterator(chunk)
        if event:
            kind, sample = next(iter(event.items()))
            events.append({"chunk": i, "kind": kind, "sample": int(sample)})
    return events


def decoder_cases(utils, rng: np.random.Generator) -> list[dict]:
    """silero-vad's get_speech_timestamps_from_probs on made-up probabilities with settings away
    from the defaults (hysteresis, padding that overlaps, segments over maxSpeechS cut at their
    longest silence or where they stand): the reference for edgeserve's decoder alone."""
    settings = [
        {},
        {"maxSpeechS": 1.0, "minSilenceMs": 300},
        {"maxSpeechS": 2.0},
        {"speechPadMs": 100},
        {"threshold": 0.3, "negThreshold": 0.2, "minSpeechMs": 500},
        {"threshold": 0.7, "minSilenceMs": 0, "speechPadMs": 0, "minSpeechMs": 0},
    ]
    cases = []
    for i in range(24):
        # Runs of speech and silence of random lengths (1 to 80 frames), their values spread
        # across the thresholds, so that hysteresis, short pauses and long speech all occur.
        probs = []
        speech = bool(rng.integers(0, 2))
        while len(probs) < 400:
            run = int(rng.integers(1, 81))
            low, high = (0.35, 1.0) if speech else (0.0, 0.6)
            probs += [float(round(p, 4)) for p in rng.uniform(low, high, run)]
            speech = not speech
        probs = probs[:400]
        s = settings[i % len(settings)]
        length = len(probs) * FRAME - int(rng.integers(0, FRAME))
        got = utils.get_speech_timestamps_from_probs(
            probs, sampling_rate=MODEL_RATE, threshold=s.get("threshold", 0.5),
            neg_threshold=s.get("negThreshold"), min_speech_duration_ms=s.get("minSpeechMs", 250),
            min_silence_duration_ms=s.get("minSilenceMs", 100), speech_pad_ms=s.get("speechPadMs", 30),
            max_speech_duration_s=s.get("maxSpeechS", float("inf")), audio_length_samples=length)
        cases.append({"settings": s, "length": length, "probabilities": probs,
                      "segments": [{"start": int(x["start"]), "end": int(x["end"])} for x in got]})
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "target" / "models-audio"))
    parser.add_argument("--packages", default=str(ROOT / "target" / "real-models" / "packages"), help="where pip's downloads are kept")
    args = parser.parse_args()
    out = Path(args.out)
    pkg = out / "vad"
    audio_dir = out / "audio"
    pkg.mkdir(parents=True, exist_ok=True)
    audio_dir.mkdir(parents=True, exist_ok=True)

    prepare = load_module(ROOT / "tests" / "real" / "prepare.py", "prepare")
    pins = json.loads((ROOT / "tests" / "real" / "models.json").read_text())["packages"]
    pin = pins[WHEEL]
    wheel = prepare.fetch(WHEEL, pin, Path(args.packages))
    prepare.extract(wheel, GRAPH, pkg / "model.onnx")
    name_dimensions(pkg / "model.onnx")

    manifest = {
        "name": "vad",
        "version": "1.0.0",
        "description": "Voice activity detection (Silero VAD v6): the probability of speech in every 32 ms of audio, and speech segments.",
        "task": "voice-activity",
        "inputs": [
            {"name": "input", "dtype": "float32", "shape": ["N", CONTEXT + FRAME]},
            {"name": "h", "dtype": "float32", "shape": [1, 1, 128]},
            {"name": "c", "dtype": "float32", "shape": [1, 1, 128]},
        ],
        "outputs": [
            {"name": "speech_probs", "dtype": "float32", "shape": ["N"], "role": "probability"},
            {"name": "hn", "dtype": "float32", "shape": [1, 1, 128], "role": "state"},
            {"name": "cn", "dtype": "float32", "shape": [1, 1, 128], "role": "state"},
        ],
        "preprocessing": {
            "type": "audio",
            "sampleRate": MODEL_RATE,
            "frame": FRAME,
            "context": CONTEXT,
            "input": "input",
            "sequence": True,
        },
        "state": [
            {"input": "h", "output": "hn", "shape": [1, 1, 128], "initial": 0.0},
            {"input": "c", "output": "cn", "shape": [1, 1, 128], "initial": 0.0},
        ],
        "voiceActivity": SETTINGS,
        "sha256": prepare.sha256(pkg / "model.onnx"),
        "default": False,
        "training": {
            "source": f"PyPI {WHEEL}=={pin['version']} (sha256 {pin['sha256']}), {GRAPH}, MIT",
            "made by": "training/audio_packages.py",
        },
    }
    (pkg / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    session_options = ort.SessionOptions()
    session_options.intra_op_num_threads = 1
    package = ort.InferenceSession(str(pkg / "model.onnx"), session_options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(20261129)
    recordings = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare.extract(wheel, REFERENCE_GRAPH, work / "reference.onnx")
        session = ort.InferenceSession(str(work / "reference.onnx"), session_options, providers=["CPUExecutionProvider"])
        utils = silero_utils(wheel, work)
        cases = decoder_cases(utils, np.random.default_rng(7))
        speech, truth = recording(work)
        speech_power = float(np.mean(np.concatenate([speech[int(t["start"] * MASTER_RATE):int(t["end"] * MASTER_RATE)] for t in truth]) ** 2))
        for noise_name, snr in NOISE.items():
            noisy = speech.copy()
            if snr is not None:
                noisy += rng.normal(0.0, np.sqrt(speech_power / 10 ** (snr / 10)), len(speech)).astype(np.float32)
            for rate in RATES:
                name = f"speech-{rate // 1000 if rate % 1000 == 0 else rate / 1000}k-{noise_name}.wav"
                samples = write_wav(audio_dir / name, resample(noisy, MASTER_RATE, rate), rate)
                at_model_rate = samples if rate == MODEL_RATE else resample(samples, rate, MODEL_RATE)
                probs = probabilities(session, at_model_rate)
                agreement = float(np.abs(np.array(sequence_probabilities(package, at_model_rate)) - probs).max())
                if agreement > 1e-5:
                    raise SystemExit(f"{name}: the sequence graph and {REFERENCE_GRAPH} disagree by {agreement}")
                segments = utils.get_speech_timestamps_from_probs(
                    probs, sampling_rate=MODEL_RATE, threshold=SETTINGS["threshold"],
                    min_speech_duration_ms=SETTINGS["minSpeechMs"], min_silence_duration_ms=SETTINGS["minSilenceMs"],
                    speech_pad_ms=SETTINGS["speechPadMs"], audio_length_samples=len(at_model_rate))
                recordings.append({
                    "file": name,
                    "sampleRate": rate,
                    "samples": len(samples),
                    "noise": noise_name,
                    "resampledBy": None if rate == MODEL_RATE else "scipy.signal.resample_poly",
                    "modelSamples": len(at_model_rate),
                    "probabilities": probs,
                    "sequenceAgreement": agreement,
                    "segments": [{"start": int(s["start"]), "end": int(s["end"])} for s in segments],
                    "events": streamed_events(utils, probs),
                })
                print(f"{name}: {len(samples) / rate:.2f} s, {len(probs)} chunks, {len(segments)} segments")
    golden = {
        "onnxruntime": ort.__version__,
        "sileroVad": pin["version"],
        "modelRate": MODEL_RATE,
        "settings": SETTINGS,
        "truth": truth,
        "recordings": recordings,
        "decoderCases": cases,
    }
    (pkg / "golden.json").write_text(json.dumps(golden) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
