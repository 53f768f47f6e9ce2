#!/usr/bin/env python3
"""Makes the model package `ocr` (reading text from an image: PP-OCRv4, Apache-2.0) from the PyPI
wheel rapidocr-onnxruntime, pinned by version and sha256 in tests/real/models.json, with its test
images and RapidOCR's own results on them (`make models-ocr`).

The package is made at build time into target/, not committed, like the text and audio packages.
Its three graphs are the wheel's files, the ones RapidOCR's default configuration loads:
- model.onnx: the text detector (ch_PP-OCRv4_det_infer.onnx, DBNet: a probability of text per
  pixel), its dimensions named (N, H, W) where the wheel's file has exporter names; nothing else
  of the graph changes;
- classifier.onnx: the line orientation classifier (ch_ppocr_mobile_v2.0_cls_infer.onnx: 0 or 180
  degrees);
- recognizer.onnx: the recogniser (ch_PP-OCRv4_rec_infer.onnx, SVTR with a CTC head over 6625
  classes);
  in both, Paddle2ONNX's casts of a shape to int32 are casts to int64 (see
  `shape_casts_widened`: tract then types them for any batch and line width; the outputs are
  the same bit for bit), and the recogniser's free dimensions are named N, W and T where the
  wheel's file has exporter names with dots; nothing else of the graphs changes. The recogniser's metadata property `character` holds the dictionary, one character
  a line, which edgeserve reads from the graph as RapidOCR does.
The manifest carries RapidOCR's configuration (its config.yaml): the detector's preprocessing
(an image first scaled to at most 2000 pixels, then its shorter side up to 736, each side a
multiple of 32, BGR, mean and std 0.5) and thresholds, the
classifier's and recogniser's input sizes, batch sizes and thresholds.

The test images (--out/images/, PNG and raw RGB) are rendered here with Pillow and Debian's DejaVu
fonts: known lines of text in several fonts and sizes, some rotated by a few degrees, on plain
backgrounds and on photographs from scikit-image's wheel (its sample data, read from the wheel
pinned in tests/real/models.json, not installed), and two of scikit-image's own photographs of
text, for which only the reference is known. For each image, golden.json holds:
- `truth`: the lines rendered (text and the four corners of each), for character accuracy;
- `reference`: what RapidOCR's own pipeline returns (boxes, texts, scores), run from the wheel's
  code with its default configuration on onnxruntime, one thread;
- the stages of that run, each the input of an edgeserve test of one stage: the detector's
  probability map (map/NAME.f32) with the boxes RapidOCR's post-processing finds in it, and the
  line crops it cut (crops/NAME-K.rgb) with the classifier's and the recogniser's results on them.

Usage: python3 training/ocr_package.py [--out target/models-ocr] [--packages DIR]
"""

import argparse
import importlib.util
import json
import math
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
WHEEL = "rapidocr-onnxruntime"
MODELS = "rapidocr_onnxruntime/models/"
DETECTOR = MODELS + "ch_PP-OCRv4_det_infer.onnx"
CLASSIFIER = MODELS + "ch_ppocr_mobile_v2.0_cls_infer.onnx"
RECOGNIZER = MODELS + "ch_PP-OCRv4_rec_infer.onnx"
PHOTOS = "scikit-image"
FONTS = Path("/usr/share/fonts/truetype/dejavu")


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def name_dimensions(path: Path) -> None:
    """Names the detector's free dimensions N, H and W (input x and its output alike)."""
    model = onnx.load(str(path))
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for i, name in [(0, "N"), (2, "H"), (3, "W")]:
            dims[i].ClearField("dim_value")
            dims[i].dim_param = name
    onnx.save(model, str(path))


def exporter_names_replaced(path: Path) -> None:
    """Paddle2ONNX names the recogniser's free dimensions p2o.DynamicDimension.0 to .3: names
    with dots, which tract's NNEF form writes one way where it declares them and another where
    it uses them (the lean build could not read it back). They become N and W (input x) and N
    and T (its output: the columns); only the names change."""
    model = onnx.load(str(path))
    names = {"p2o.DynamicDimension.0": "N", "p2o.DynamicDimension.1": "W",
             "p2o.DynamicDimension.2": "N", "p2o.DynamicDimension.3": "T"}
    for value in [*model.graph.input, *model.graph.output]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param in names:
                dim.dim_param = names[dim.dim_param]
    onnx.save(model, str(path))


def shape_casts_widened(path: Path, example: tuple[int, ...]) -> None:
    """Paddle2ONNX casts a Shape to int32 before slicing it, and back to int64 after: a size
    tract cannot keep as a symbol through an int32, so it could type the graph only per input
    shape (and the lean build, which embeds typed graphs, not at all). Each such cast is made a
    cast to int64, the type Shape gives; onnxruntime checks here that the outputs are the same,
    bit for bit, on an input of shape `example`."""
    model = onnx.load(str(path))
    made = {out: node for node in model.graph.node for out in node.output}
    changed = 0
    for node in model.graph.node:
        source = made.get(node.input[0]) if node.op_type == "Cast" else None
        if source is not None and source.op_type == "Shape":
            for attribute in node.attribute:
                if attribute.name == "to" and attribute.i == onnx.TensorProto.INT32:
                    attribute.i = onnx.TensorProto.INT64
                    changed += 1
    assert changed, f"{path.name}: no cast of a Shape to int32 (a new exporter?)"
    widened = model.SerializeToString()

    import onnxruntime

    x = np.random.default_rng(0).uniform(-1, 1, example).astype(np.float32)
    before = onnxruntime.InferenceSession(str(path)).run(None, {"x": x})[0]
    after = onnxruntime.InferenceSession(widened).run(None, {"x": x})[0]
    assert before.shape == after.shape and np.array_equal(before, after), f"{path.name}: widening changed the outputs"
    path.write_bytes(widened)


# The lines of the rendered images: text, font file, size (px), angle (degrees, counter-
# clockwise), colour, and where the line's top-left corner goes.
def scenes() -> list[dict]:
    sans, serif, mono = "DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf"
    bold = "DejaVuSans-Bold.ttf"
    return [
        {
            "name": "receipt", "size": (640, 480), "background": (255, 255, 255),
            "lines": [
                ("Corner Bakery", bold, 34, 0, (20, 20, 20), (40, 30)),
                ("2 Croissants 5.80", sans, 26, 0, (20, 20, 20), (40, 110)),
                ("1 Coffee 3.20", sans, 26, 0, (20, 20, 20), (40, 160)),
                ("Subtotal 9.00", sans, 26, 0, (20, 20, 20), (40, 210)),
                ("VAT 20% 1.80", sans, 26, 0, (20, 20, 20), (40, 260)),
                ("TOTAL 10.80 EUR", bold, 30, 0, (20, 20, 20), (40, 330)),
                ("Thank you!", serif, 24, 0, (60, 60, 60), (40, 410)),
            ],
        },
        {
            "name": "notice", "size": (1024, 768), "background": (245, 238, 220),
            "lines": [
                ("Library opening hours", serif, 44, 0, (30, 30, 90), (60, 50)),
                ("Monday to Friday 9:00 - 18:30", sans, 32, 0, (10, 10, 10), (60, 150)),
                ("Saturday 10:00 - 14:00", sans, 32, 0, (10, 10, 10), (60, 215)),
                ("Closed on public holidays", sans, 30, 2, (120, 20, 20), (60, 300)),
                ("Wi-Fi: guest / password 7731", mono, 26, 0, (10, 10, 10), (60, 400)),
                ("Please return books by 17:45", serif, 28, -2, (10, 10, 10), (60, 480)),
                ("www.example.org/library", mono, 24, 0, (10, 60, 10), (60, 600)),
            ],
        },
        {
            "name": "astronaut", "size": (512, 512), "photo": "astronaut.png",
            "lines": [
                ("MISSION LOG 47", bold, 36, 0, (255, 255, 255), (30, 20)),
                ("Launch window open", sans, 28, 0, (255, 255, 0), (30, 400)),
                ("Orbit 128 km", sans, 28, 0, (255, 255, 255), (30, 450)),
            ],
        },
        {
            "name": "coffee", "size": (600, 400), "photo": "coffee.png",
            "lines": [
                ("Espresso Bar", serif, 40, 0, (255, 255, 255), (20, 15)),
                ("Cappuccino 3.50", sans, 26, 3, (255, 255, 255), (330, 330)),
            ],
        },
        {
            "name": "rotated", "size": (800, 600), "photo": "brick.png",
            "lines": [
                ("Keep this door closed", bold, 34, 5, (255, 255, 255), (60, 60)),
                ("Emergency exit 24h", sans, 32, -4, (255, 255, 255), (80, 230)),
                ("Fire alarm test on Tuesday", sans, 28, 3, (255, 255, 255), (60, 380)),
                ("Room 3B", mono, 30, -6, (255, 255, 255), (500, 480)),
            ],
        },
        {
            "name": "strip", "size": (900, 48), "background": (255, 255, 255),
            "lines": [
                ("A single line of text on a narrow strip 2026", sans, 28, 0, (0, 0, 0), (12, 6)),
            ],
        },
        {
            "name": "small", "size": (1280, 720), "background": (250, 250, 250),
            "lines": [
                (text, sans if i % 2 else serif, 16 + (i % 3) * 2, 0, (20, 20, 20), (40 + 640 * (i // 12), 30 + 55 * (i % 12)))
                for i, text in enumerate([
                    "Chapter 1: Getting started", "Install the package with npm", "Load a model by its name",
                    "Read text from a photo", "Each line has a box", "Scores are between 0 and 1",
                    "Boxes are in image pixels", "The page stays offline", "Models run in the browser",
                    "No server is needed", "Results come back in order", "Errors have a code",
                    "Chapter 2: Serving modes", "Real time: one image", "Batch: many images",
                    "Stream: frames in, lines out", "Latency is measured", "Memory stays bounded",
                    "Threads are optional", "Version 1.4.4 of the models", "Apache License 2.0",
                    "Page 12 of 40", "Figure 3b", "Table 7",
                ])
            ],
        },
    ]


# scikit-image's photographs of text: only RapidOCR's result is known.
FOUND = [("page", "page.png"), ("text", "text.png")]


def photo(wheel: Path, name: str) -> Image.Image:
    with zipfile.ZipFile(wheel) as z, z.open(f"skimage/data/{name}") as f:
        return Image.open(f).convert("RGB")


def cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The image scaled to cover `size` and cropped to it, centred."""
    w, h = image.size
    scale = max(size[0] / w, size[1] / h)
    image = image.resize((math.ceil(w * scale), math.ceil(h * scale)), Image.BICUBIC)
    left = (image.width - size[0]) // 2
    top = (image.height - size[1]) // 2
    return image.crop((left, top, left + size[0], top + size[1]))


def render(scene: dict, photos: Path) -> tuple[Image.Image, list[dict]]:
    """The scene's image and, for each line, its text and the four corners of its ink box."""
    size = scene["size"]
    if "photo" in scene:
        canvas = cover(photo(photos, scene["photo"]), size)
    else:
        canvas = Image.new("RGB", size, scene["background"])
    truth = []
    for text, font_file, px, angle, colour, (x, y) in scene["lines"]:
        font = ImageFont.truetype(str(FONTS / font_file), px)
        stroke = 2 if "photo" in scene else 0
        left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
        pad = 4
        w, h = right - left + 2 * pad, bottom - top + 2 * pad
        layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        ImageDraw.Draw(layer).text((pad - left, pad - top), text, font=font, fill=colour + (255,),
                                   stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
        corners = np.array([[pad, pad], [w - pad, pad], [w - pad, h - pad], [pad, h - pad]], dtype=float)
        if angle:
            rotated = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
            # Pillow rotates about the centre, counter-clockwise; expand shifts by the new size.
            a = math.radians(angle)
            c, s = math.cos(a), math.sin(a)
            centre = np.array([w / 2, h / 2])
            d = corners - centre
            corners = np.stack([d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c], axis=1)
            corners += np.array([rotated.width / 2, rotated.height / 2])
            layer = rotated
        canvas.paste(layer, (x, y), layer)
        corners += np.array([x, y])
        truth.append({"text": text, "box": np.round(corners, 1).tolist()})
    return canvas, truth


def rapidocr(wheel: Path, work: Path):
    """RapidOCR's engine from the wheel's code, with its default configuration, one thread."""
    with zipfile.ZipFile(wheel) as z:
        z.extractall(work / "wheel")
    sys.path.insert(0, str(work / "wheel"))
    from rapidocr_onnxruntime import RapidOCR  # noqa: E402

    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)


def run_reference(engine, path: Path, out: Path, name: str) -> dict:
    """RapidOCR's __call__ step by step (main.py), each stage's result kept."""
    img = engine.load_img(str(path))
    raw_h, raw_w = img.shape[:2]
    op_record = {}
    img, ratio_h, ratio_w = engine.preprocess(img)
    op_record["preprocess"] = {"ratio_h": ratio_h, "ratio_w": ratio_w}
    img, op_record = engine.maybe_add_letterbox(img, op_record)
    seconds = {}

    # The detector's map and what DBPostProcess finds in it, in the padded image's pixels.
    det = engine.text_det
    prepro = det.get_preprocess(max(img.shape[0], img.shape[1]))(img)
    start = time.perf_counter()
    pred = det.infer(prepro)[0]
    seconds["detector"] = time.perf_counter() - start
    probability = pred[0, 0].astype(np.float32)
    (out / "map").mkdir(exist_ok=True)
    probability.tofile(out / "map" / f"{name}.f32")
    boxes, scores = det.postprocess_op(pred, img.shape[:2])
    boxes = det.filter_tag_det_res(boxes, img.shape[:2])
    map_boxes = [b.tolist() for b in engine.sorted_boxes(boxes)] if len(boxes) else []

    dt_boxes, _ = engine.auto_text_det(img)
    lines, cls_res, rec_res, crops = [], [], [], []
    if dt_boxes is not None:
        crop_list = engine.get_crop_img_list(img, dt_boxes)
        (out / "crops").mkdir(exist_ok=True)
        for k, crop in enumerate(crop_list):
            file = f"{name}-{k}.rgb"
            np.ascontiguousarray(crop[:, :, ::-1]).tofile(out / "crops" / file)
            crops.append({"file": file, "width": int(crop.shape[1]), "height": int(crop.shape[0])})
        start = time.perf_counter()
        turned, cls_res, _ = engine.text_cls(crop_list)
        seconds["classifier"] = time.perf_counter() - start
        start = time.perf_counter()
        rec_res, _ = engine.text_rec(turned)
        seconds["recognizer"] = time.perf_counter() - start
        origin = engine._get_origin_points(dt_boxes, op_record, raw_h, raw_w)
        final, _ = engine.get_final_res(origin, cls_res, rec_res, 0, 0, 0)
        lines = [{"box": box, "text": text, "score": float(score)} for box, text, score in (final or [])]
    return {
        "lines": lines,
        "padding": {"top": op_record["padding_1"]["top"]},
        "map": {"file": f"{name}.f32", "width": int(probability.shape[1]), "height": int(probability.shape[0]),
                "boxes": map_boxes},
        "crops": crops,
        "classifier": [[label, float(score)] for label, score in cls_res],
        "recognizer": [[text, float(score)] for text, score, *_ in rec_res],
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "target" / "models-ocr"))
    parser.add_argument("--packages", default=str(ROOT / "target" / "real-models" / "packages"), help="where pip's downloads are kept")
    args = parser.parse_args()
    out = Path(args.out)
    pkg = out / "ocr"
    images = out / "images"
    pkg.mkdir(parents=True, exist_ok=True)
    images.mkdir(parents=True, exist_ok=True)

    prepare = load_module(ROOT / "tests" / "real" / "prepare.py", "prepare")
    pins = json.loads((ROOT / "tests" / "real" / "models.json").read_text())["packages"]
    wheel = prepare.fetch(WHEEL, pins[WHEEL], Path(args.packages))
    photos = prepare.fetch(PHOTOS, pins[PHOTOS], Path(args.packages))
    prepare.extract(wheel, DETECTOR, pkg / "model.onnx")
    name_dimensions(pkg / "model.onnx")
    prepare.extract(wheel, CLASSIFIER, pkg / "classifier.onnx")
    shape_casts_widened(pkg / "classifier.onnx", (3, 3, 48, 192))
    prepare.extract(wheel, RECOGNIZER, pkg / "recognizer.onnx")
    shape_casts_widened(pkg / "recognizer.onnx", (2, 3, 48, 400))
    exporter_names_replaced(pkg / "recognizer.onnx")

    pin = pins[WHEEL]
    manifest = {
        "name": "ocr",
        "version": "1.0.0",
        "description": "Reads text in an image (PP-OCRv4 from RapidOCR): the lines found, each with its text, score and four corners.",
        "task": "ocr",
        "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3, "H", "W"]}],
        "outputs": [{"name": "sigmoid_0.tmp_0", "dtype": "float32", "shape": ["N", 1, "H", "W"], "role": "probability"}],
        "preprocessing": {
            "type": "image",
            "input": "x",
            # RapidOCR's detector: the shorter side up to 736, no limit on the longer one but
            # what its preprocess (maxImageSide below) and letterbox (maxAspect) leave.
            "resize": {"mode": "multiple", "of": 32, "minSide": 736, "maxSide": 4096},
            "channels": "bgr",
            "scale": 1 / 255,
            "mean": [0.5, 0.5, 0.5],
            "std": [0.5, 0.5, 0.5],
        },
        "ocr": {
            "detector": {"threshold": 0.3, "boxThreshold": 0.5, "unclipRatio": 1.6, "dilate": True,
                         "maxCandidates": 1000, "maxImageSide": 2000, "minImageSide": 30, "minHeight": 30, "maxAspect": 8},
            "classifier": {"file": "classifier.onnx", "sha256": prepare.sha256(pkg / "classifier.onnx"),
                           "height": 48, "width": 192, "batch": 6, "threshold": 0.9},
            "recognizer": {"file": "recognizer.onnx", "sha256": prepare.sha256(pkg / "recognizer.onnx"),
                           "height": 48, "width": 320, "batch": 6, "characters": "character", "scoreThreshold": 0.5},
        },
        "limits": {"maxImagePixels": 4096 * 4096},
        "sha256": prepare.sha256(pkg / "model.onnx"),
        "default": False,
        "training": {
            "source": f"PyPI {WHEEL}=={pin['version']} (sha256 {pin['sha256']}): {DETECTOR}, {CLASSIFIER}, {RECOGNIZER}; Apache-2.0",
            "made by": "training/ocr_package.py",
        },
    }
    (pkg / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    # The recogniser's characters as a file, for the benchmark's JavaScript port of RapidOCR
    # (bench/ocr-reference.mjs: onnxruntime-web does not give a graph's metadata).
    recognizer = onnx.load(str(pkg / "recognizer.onnx"))
    characters = next(p.value for p in recognizer.metadata_props if p.key == "character")
    (out / "characters.txt").write_text(characters)

    golden = {"about": __doc__.split("\n\n")[0], "images": []}
    with tempfile.TemporaryDirectory() as tmp:
        engine = rapidocr(wheel, Path(tmp))
        todo = []
        for scene in scenes():
            image, truth = render(scene, photos)
            todo.append((scene["name"], image, truth))
        for name, file in FOUND:
            todo.append((name, photo(photos, file), None))
        for name, image, truth in todo:
            image.save(images / f"{name}.png")
            np.asarray(image, dtype=np.uint8).tofile(images / f"{name}.rgb")
            reference = run_reference(engine, images / f"{name}.png", out, name)
            entry = {"name": name, "width": image.width, "height": image.height, "reference": reference}
            if truth is not None:
                entry["truth"] = truth
            golden["images"].append(entry)
            print(f"{name}: {len(reference['lines'])} lines: {[l['text'] for l in reference['lines']]}")
    (out / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
