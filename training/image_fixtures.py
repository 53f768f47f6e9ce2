#!/usr/bin/env python3
"""Images and image models for the tests (tests/fixtures/image/, tests/image.rs and
tests/js/image.test.mjs), with references made here by other libraries than edgeserve's:

- Test images (raw 8-bit pixels, row after row: <name>.<width>x<height>x<channels>.raw): drawn
  with OpenCV (gradients, noise, shapes, text in DejaVu-like Hershey strokes) in RGB, RGBA and
  gray, at sizes that shrink and grow.
- preprocess.json: for each image and preprocessing (every resize mode, every filter, channel
  orders, layouts, normalisation), the tensor OpenCV and Pillow make, as the model's sizes and
  placements are computed by torchvision (CenterCrop), Ultralytics (LetterBox) and PaddleOCR
  (DetResizeForTest), written here in numpy. Filters: bilinear is OpenCV's INTER_LINEAR; nearest
  is the nearest centre in exact integers (OpenCV's INTER_NEAREST_EXACT and Pillow's NEAREST but
  at ties); area is OpenCV's INTER_AREA (recorded where the image shrinks by a whole
  factor, where it and a box filter agree).
- image-classifier.onnx (+ .manifest.json, .golden.json): a small image
  classifier made with onnx.helper (a convolution, ReLU, global average pooling, a dense layer,
  softmax) over three labels, ImageNet's normalisation after a centre crop; onnxruntime's
  scores for each test image on the tensor OpenCV makes.
- image-mean.onnx (+ .manifest.json, .golden.json): a regression whose value is the mean of its
  ImageNet-preprocessed input: the preprocessing alone, for the tests and bench/image.mjs.
- detector-yolov8.onnx, detector-yolov5.onnx (+ manifests, golden files): detectors' heads made with onnx.helper,
  whose candidates are fixed boxes with scores scaled by the image's mean brightness (so that the
  outputs depend on the pixels); the boxes each should give, decoded here in numpy (thresholds,
  torchvision's greedy NMS per class, the letterbox undone as Ultralytics' scale_boxes does).

Needs: numpy, onnx, onnxruntime, opencv-python-headless, pillow (training/requirements.txt).
Usage: python3 training/image_fixtures.py
"""

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import fixtures

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "image"
RNG = np.random.default_rng(19)


def draw(width: int, height: int) -> np.ndarray:
    """An RGB picture: gradients, noise, a filled circle, a rectangle and a word."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / max(width - 1, 1), y * 255 / max(height - 1, 1), ((x + 2 * y) % 48) * 5], -1)
    img = np.clip(base + RNG.integers(-30, 30, (height, width, 3)), 0, 255).astype(np.uint8)
    cv2.circle(img, (width // 3, height // 2), max(2, min(width, height) // 5), (250, 40, 40), -1)
    cv2.rectangle(img, (width // 2, height // 5), (width * 5 // 6, height * 3 // 5), (30, 200, 60), -1)
    cv2.putText(img, "edge", (2, height - 4), cv2.FONT_HERSHEY_SIMPLEX, max(0.3, height / 120), (20, 20, 220), 1)
    return img


def images() -> dict[str, np.ndarray]:
    """name -> pixels [H, W, C] (C = 1, 3 or 4)."""
    rgb = draw(97, 61)
    rgba = np.concatenate([draw(160, 120), RNG.integers(0, 256, (120, 160, 1), dtype=np.uint8)], -1)
    gray = cv2.cvtColor(draw(50, 70), cv2.COLOR_RGB2GRAY)[..., None]
    big = draw(256, 192)
    return {"rgb": rgb, "rgba": rgba, "gray": gray, "big": big}


def file_name(name: str, img: np.ndarray) -> str:
    h, w, c = img.shape
    return f"{name}.{w}x{h}x{c}.raw"


def place(cfg: dict, w: int, h: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(resized (w, h), offset (x, y) of its corner in the tensor, tensor (w, h))."""
    r = cfg["resize"]
    mode = r["mode"]
    if mode == "stretch":
        return (r["width"], r["height"]), (0, 0), (r["width"], r["height"])
    if mode == "centerCrop":
        # torchvision: Resize(shorter) (long side int(shorter * long / short)), CenterCrop.
        tw, th = r["width"], r["height"]
        s = r.get("shorter", max(tw, th))
        rw, rh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        left, top = int(round((rw - tw) / 2.0)), int(round((rh - th) / 2.0))
        return (rw, rh), (-left, -top), (tw, th)
    if mode == "letterbox":
        # Ultralytics' LetterBox(auto=False, scaleup=True, center=True).
        tw, th = r["width"], r["height"]
        ratio = min(tw / w, th / h)
        rw, rh = int(round(w * ratio)), int(round(h * ratio))
        dw, dh = (tw - rw) / 2, (th - rh) / 2
        return (rw, rh), (int(round(dw - 0.1)), int(round(dh - 0.1))), (tw, th)
    if mode == "multiple":
        # PaddleOCR's DetResizeForTest: up to minSide, down to maxSide, sides to multiples.
        of, max_side, min_side = r["of"], r["maxSide"], r.get("minSide")
        ratio = 1.0
        if min_side is not None and min(w, h) < min_side:
            ratio = min_side / min(w, h)
        if max(w, h) * ratio > max_side:
            ratio = max_side / max(w, h)
        side = lambda v: min(max(int(round(int(v * ratio) / of)), 1) * of, max_side // of * of)
        rw, rh = side(w), side(h)
        return (rw, rh), (0, 0), (rw, rh)
    raise ValueError(mode)


def resize(img: np.ndarray, size: tuple[int, int], filt: str, ties_left: tuple[bool, bool] = (False, False)) -> np.ndarray:
    if (img.shape[1], img.shape[0]) == size:
        return img.copy()
    if filt == "nearest":
        # The source pixel whose centre is nearest, floor((x + 0.5) * w / W) in exact integers:
        # OpenCV's INTER_NEAREST_EXACT and Pillow's NEAREST, which break ties (a target centre
        # exactly between two source pixels) each its own way.
        # With ties_left (x, y), a tie goes to the pixel on the left (above) instead.
        h, w = img.shape[:2]
        pick = lambda n, src, left: (((2 * np.arange(n) + 1) * src + (2 * n - 1 if left else 0)) // (2 * n)) - (1 if left else 0)
        return img[pick(size[1], h, ties_left[1])][:, pick(size[0], w, ties_left[0])]
    flag = {"bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}[filt]
    return cv2.resize(img, size, interpolation=flag).reshape(size[1], size[0], img.shape[2])


def prepare(cfg: dict, img: np.ndarray, ties_left: tuple[bool, bool] = (False, False)) -> np.ndarray:
    """The tensor [1, ...] of `img` as `cfg` (a manifest's image preprocessing) says."""
    h, w, c = img.shape
    (rw, rh), (ox, oy), (tw, th) = place(cfg, w, h)
    resized = resize(img, (rw, rh), cfg.get("filter", "bilinear"), ties_left)
    if c == 1:
        resized = np.repeat(resized, 3, -1)
    rgb = resized[..., :3]
    channels = cfg.get("channels", "rgb")
    if channels == "bgr":
        model = rgb[..., ::-1]
    elif channels == "gray":
        model = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)[..., None]
        if c == 1:
            model = resized[..., :1]
    else:
        model = rgb
    fill = cfg["resize"].get("fill", 114) if cfg["resize"]["mode"] == "letterbox" else 0
    canvas = np.full((th, tw, model.shape[2]), fill, np.uint8)
    # The resized image at (ox, oy) in the tensor, cut to the tensor's edges.
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + rw, tw), min(oy + rh, th)
    canvas[y0:y1, x0:x1] = model[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    if cfg.get("dtype", "float32") == "uint8":
        out = canvas
    else:
        n = model.shape[2]
        mean = np.array(cfg.get("mean", [0.0] * n), np.float32)
        std = np.array(cfg.get("std", [1.0] * n), np.float32)
        out = (canvas.astype(np.float32) * np.float32(cfg.get("scale", 1.0)) - mean) / std
    if cfg.get("layout", "nchw") == "nchw":
        out = out.transpose(2, 0, 1)
    return np.ascontiguousarray(out[None])


def preprocess_cases(imgs: dict[str, np.ndarray]) -> list[dict]:
    u8 = {"input": "x", "dtype": "uint8", "layout": "nhwc"}
    configs = [
        {**u8, "resize": {"mode": "stretch", "width": 40, "height": 30}},
        {**u8, "resize": {"mode": "stretch", "width": 120, "height": 90}},
        {**u8, "resize": {"mode": "centerCrop", "width": 32, "height": 32, "shorter": 36}},
        {**u8, "resize": {"mode": "centerCrop", "width": 48, "height": 40}},
        {**u8, "resize": {"mode": "letterbox", "width": 64, "height": 64}},
        {**u8, "resize": {"mode": "letterbox", "width": 100, "height": 80, "fill": 0}},
        {**u8, "resize": {"mode": "multiple", "of": 16, "maxSide": 64}},
        {**u8, "resize": {"mode": "multiple", "of": 32, "maxSide": 128, "minSide": 64}},
    ]
    configs += [
        {**u8, "filter": "nearest", "resize": {"mode": "stretch", "width": 40, "height": 30}},
        {**u8, "filter": "nearest", "resize": {"mode": "stretch", "width": 80, "height": 60}},
        {**u8, "filter": "nearest", "resize": {"mode": "centerCrop", "width": 32, "height": 32, "shorter": 36}},
        {**u8, "filter": "nearest", "resize": {"mode": "letterbox", "width": 64, "height": 64}},
        {**u8, "filter": "nearest", "resize": {"mode": "multiple", "of": 16, "maxSide": 64}},
    ]
    configs += [
        {**u8, "channels": "bgr", "resize": {"mode": "stretch", "width": 33, "height": 21}},
        {**u8, "channels": "gray", "layout": "nchw", "resize": {"mode": "letterbox", "width": 48, "height": 48}},
        {
            "input": "x",
            "resize": {"mode": "centerCrop", "width": 24, "height": 24, "shorter": 28},
            "scale": 1 / 255,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        },
        {"input": "x", "channels": "bgr", "layout": "nhwc", "scale": 2.0, "mean": [1, 2, 3], "resize": {"mode": "stretch", "width": 20, "height": 10}},
    ]
    cases = []
    for name, img in imgs.items():
        for cfg in configs if name != "big" else []:
            case = {"image": file_name(name, img), "config": cfg, "filter": cfg.get("filter", "bilinear"), **tensor_json(prepare(cfg, img))}
            if case["filter"] == "nearest":
                # Where a target centre falls exactly between two pixels, either is nearest: the
                # tensors with ties to the left on one axis, on the other, on both.
                case["tiesLeft"] = [tensor_json(prepare(cfg, img, ties_left=t))["base64"] for t in [(True, False), (False, True), (True, True)]]
            cases.append(case)
        # Area: where the image shrinks by a whole factor on both sides (OpenCV's INTER_AREA).
        h, w, _ = img.shape
        for factor in [2, 4] if name == "big" else [] :
            cfg = {**u8, "filter": "area", "resize": {"mode": "stretch", "width": w // factor, "height": h // factor}}
            cases.append({"image": file_name(name, img), "config": cfg, "filter": "area", **tensor_json(prepare(cfg, img))})
    return cases


def tensor_json(v: np.ndarray) -> dict:
    """uint8 data as base64 (the preprocessing references are large), float32 as numbers."""
    if v.dtype == np.uint8:
        return {"dtype": "uint8", "shape": list(v.shape), "base64": base64.b64encode(v.tobytes()).decode()}
    return {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.ravel().tolist()}


def save(graph: onnx.GraphProto, name: str) -> ort.InferenceSession:
    return fixtures.save(graph, name, OUT)


def imagenet(size: int, shorter: int) -> dict:
    """The preprocessing of ImageNet's classifiers: the shorter side to `shorter`, the centre
    `size` x `size`, values over 255, ImageNet's mean and std."""
    return {
        "input": "pixel_values",
        "resize": {"mode": "centerCrop", "width": size, "height": size, "shorter": shorter},
        "scale": 1 / 255,
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
    }


def manifest(name: str, task: str, inputs: list, outputs: list, preprocessing: dict, labels: list[str], **extra) -> dict:
    import hashlib

    digest = hashlib.sha256((OUT / f"{name}.onnx").read_bytes()).hexdigest()
    m = {
        "name": name,
        "version": "1.0.0",
        "description": f"A test {task} model made with onnx.helper (training/image_fixtures.py).",
        "task": task,
        "inputs": inputs,
        "outputs": outputs,
        **({"labels": labels} if labels else {}),
        "preprocessing": {"type": "image", **preprocessing},
        **extra,
        "sha256": digest,
        "default": False,
    }
    (OUT / f"{name}.manifest.json").write_text(json.dumps(m, indent=2) + "\n")
    return m


def classifier(imgs: dict[str, np.ndarray]) -> None:
    size = 32
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, size, size])
    y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])
    inits = [
        numpy_helper.from_array(RNG.normal(0, 0.5, (8, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(RNG.normal(0, 0.1, (8,)).astype(np.float32), "b"),
        numpy_helper.from_array(RNG.normal(0, 1.0, (8, 3)).astype(np.float32), "dense"),
        numpy_helper.from_array(np.array([0.1, -0.2, 0.05], np.float32), "bias"),
    ]
    nodes = [
        helper.make_node("Conv", ["pixel_values", "w", "b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("Gemm", ["flat", "dense", "bias"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    session = save(helper.make_graph(nodes, "classifier", [x], [y], initializer=inits), "image-classifier")
    pre = imagenet(size, 36)
    m = manifest(
        "image-classifier",
        "classification",
        [{"name": "pixel_values", "dtype": "float32", "shape": ["N", 3, size, size]}],
        [{"name": "probabilities", "dtype": "float32", "shape": ["N", 3], "role": "scores"}],
        pre,
        ["red", "green", "blue"],
    )
    cases = []
    for name, img in imgs.items():
        (scores,) = session.run(None, {"pixel_values": prepare({"type": "image", **pre}, img)})
        cases.append({"image": file_name(name, img), "scores": scores[0].tolist(), "label": m["labels"][int(scores[0].argmax())]})
    (OUT / "image-classifier.golden.json").write_text(json.dumps({"reference": f"onnxruntime {ort.__version__} on OpenCV {cv2.__version__}'s tensor", "cases": cases}, indent=1) + "\n")


def image_mean(imgs: dict[str, np.ndarray]) -> None:
    """A regression whose value is the mean of its input [N, 3, 224, 224] after ImageNet's resize
    (shorter side 256), centre crop and normalisation: the preprocessing, and almost nothing else,
    for the tests and for bench/image.mjs (its cost is the preprocessing's)."""
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, 224, 224])
    y = helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["N", 1])
    nodes = [helper.make_node("ReduceMean", ["pixel_values"], ["mean4"], axes=[1, 2, 3], keepdims=1)]
    inits = [numpy_helper.from_array(np.array([-1, 1], np.int64), "shape")]
    nodes.append(helper.make_node("Reshape", ["mean4", "shape"], ["mean"]))
    session = save(helper.make_graph(nodes, "image-mean", [x], [y], initializer=inits), "image-mean")
    pre = imagenet(224, 256)
    m = manifest(
        "image-mean",
        "regression",
        [{"name": "pixel_values", "dtype": "float32", "shape": ["N", 3, 224, 224]}],
        [{"name": "mean", "dtype": "float32", "shape": ["N", 1], "role": "value"}],
        pre,
        [],
    )
    cases = []
    for name, img in imgs.items():
        (value,) = session.run(None, {"pixel_values": prepare({"type": "image", **pre}, img)})
        cases.append({"image": file_name(name, img), "values": value[0].tolist()})
    (OUT / "image-mean.golden.json").write_text(json.dumps({"reference": f"onnxruntime {ort.__version__} on OpenCV {cv2.__version__}'s tensor", "cases": cases}, indent=1) + "\n")


# The candidates of the detectors: (cx, cy, w, h) in the 64 x 64 tensor, and a score per class.
BOXES = np.array(
    [
        [20, 20, 16, 16],  # class 0, 0.9
        [22, 21, 16, 16],  # class 0, 0.8: overlaps the first (IoU 0.71), suppressed
        [21, 20, 16, 16],  # class 1, 0.7: the same place, another class: kept
        [48, 40, 20, 12],  # class 1, 0.6
        [50, 12, 10, 30],  # class 0, 0.2: under the threshold
        [62, 62, 10, 10],  # class 0, 0.5: beyond the image's edge once the letterbox is undone
    ],
    np.float32,
)
SCORES = np.array([[0.9, 0.05], [0.8, 0.1], [0.1, 0.7], [0.02, 0.6], [0.2, 0.1], [0.5, 0.0]], np.float32)


def detector(imgs: dict[str, np.ndarray], head: str) -> None:
    """A head whose candidates are BOXES with SCORES times twice the image's mean value (in 0..1)."""
    size, anchors, classes = 64, len(BOXES), SCORES.shape[1]
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, size, size])
    if head == "yolov8":
        out_shape = ["N", 4 + classes, anchors]
        boxes = BOXES.T[None]  # [1, 4, anchors]
        scores = SCORES.T[None]  # [1, classes, anchors]
        axis = 1
    else:
        out_shape = ["N", anchors, 5 + classes]
        boxes = BOXES[None]  # [1, anchors, 4]
        scores = np.concatenate([np.full((anchors, 1), 0.95, np.float32), SCORES], -1)[None]
        axis = 2
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, out_shape)
    inits = [
        numpy_helper.from_array(boxes.astype(np.float32), "boxes"),
        numpy_helper.from_array(scores.astype(np.float32), "scores"),
        numpy_helper.from_array(np.array(2.0, np.float32), "two"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
    ]
    inits.append(numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "per_image"))
    inits.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
    nodes = [
        # The mean of each image, [N, 1, 1]: the candidates' scores scale with it, per image.
        helper.make_node("ReduceMean", ["images"], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["mean4", "per_image"], ["mean"]),
        helper.make_node("Mul", ["mean", "two"], ["gain0"]),
        helper.make_node("Min", ["gain0", "one"], ["gain"]),
        helper.make_node("Mul", ["scores", "gain"], ["scaled"]),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["boxes", "nothing"], ["placed"]),
        helper.make_node("Concat", ["placed", "scaled"], ["output0"], axis=axis),
    ]
    name = f"detector-{head}"
    session = save(helper.make_graph(nodes, name, [x], [y], initializer=inits), name)
    pre = {"input": "images", "resize": {"mode": "letterbox", "width": size, "height": size}, "scale": 1 / 255}
    settings = {"head": head, "scoreThreshold": 0.25, "iouThreshold": 0.45}
    manifest(
        name,
        "detection",
        [{"name": "images", "dtype": "float32", "shape": ["N", 3, size, size]}],
        [{"name": "output0", "dtype": "float32", "shape": out_shape, "role": "detections"}],
        pre,
        ["circle", "square"],
        detection=settings,
    )
    cases = []
    for img_name, img in imgs.items():
        tensor = prepare({"type": "image", **pre}, img)
        (out,) = session.run(None, {"images": tensor})
        h, w, _ = img.shape
        cases.append({"image": file_name(img_name, img), "output": tensor_json(out), "boxes": decode(out[0], head, settings, (w, h), (size, size))})
    (OUT / f"{name}.golden.json").write_text(json.dumps({"reference": f"onnxruntime {ort.__version__}, boxes decoded in numpy (training/image_fixtures.py)", "cases": cases}, indent=1) + "\n")


def decode(out: np.ndarray, head: str, settings: dict, image: tuple[int, int], tensor: tuple[int, int]) -> list[dict]:
    """Ultralytics' non_max_suppression (v5: objectness times class; v8: class scores), per class,
    then scale_boxes (the letterbox undone, clipped to the image)."""
    if head == "yolov8":
        cand = out.T  # [anchors, 4 + classes]
        cls = cand[:, 4:]
        keep = cls.max(1) > settings["scoreThreshold"]
    else:
        cand = out
        keep = cand[:, 4] > settings["scoreThreshold"]
        cls = cand[:, 5:] * cand[:, 4:5]
        keep &= cls.max(1) > settings["scoreThreshold"]
    xywh, cls = cand[keep, :4], cls[keep]
    score, index = cls.max(1), cls.argmax(1)
    xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
    order = np.argsort(-score, kind="stable")
    kept = []
    for i in order:
        ok = True
        for j in kept:
            if index[j] != index[i]:
                continue
            a, b = xyxy[i], xyxy[j]
            iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            inter = iw * ih
            union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
            if inter / union > settings["iouThreshold"]:
                ok = False
                break
        if ok:
            kept.append(i)
    w, h = image
    gain = min(tensor[0] / w, tensor[1] / h)
    pad_x = round((tensor[0] - round(w * gain)) / 2 - 0.1)
    pad_y = round((tensor[1] - round(h * gain)) / 2 - 0.1)
    sx = sy = gain
    boxes = []
    for i in kept:
        x1, y1, x2, y2 = xyxy[i].astype(np.float64)
        x1, x2 = np.clip([(x1 - pad_x) / sx, (x2 - pad_x) / sx], 0, w)
        y1, y2 = np.clip([(y1 - pad_y) / sy, (y2 - pad_y) / sy], 0, h)
        boxes.append({"index": int(index[i]), "score": float(score[i]), "x": x1, "y": y1, "width": x2 - x1, "height": y2 - y1})
    return boxes


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    imgs = images()
    for name, img in imgs.items():
        (OUT / file_name(name, img)).write_bytes(np.ascontiguousarray(img).tobytes())
    (OUT / "preprocess.json").write_text(json.dumps({"reference": f"OpenCV {cv2.__version__}, Pillow {Image.__version__}", "cases": preprocess_cases(imgs)}) + "\n")
    classifier(imgs)
    image_mean(imgs)
    detector(imgs, "yolov8")
    detector(imgs, "yolov5")
    print("wrote", ", ".join(sorted(p.name for p in OUT.iterdir())))
