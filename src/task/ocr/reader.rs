//! The OCR pipeline: [`Reader`] holds the classifier's and recogniser's engines and the
//! recogniser's characters; [`LoadedModel::read_text`] runs the package's detector, then the
//! stages (see the module above for the order, [`super::regions`], [`super::crop`] and
//! [`super::ctc`] for each), as RapidOCR's `RapidOCR.__call__` does.

use imageproc::image::RgbImage;

use super::ctc::{self, Characters};
use super::regions::{find_lines, Quad};
use super::{crop, ClassifierSettings, LineStage, OcrSettings, OcrTimings, RecognizerSettings, TextLine, TextReading};
use crate::engine::Engine;
#[cfg(feature = "onnx")]
use crate::engine::{DimHint, HintedSize};
use crate::error::{Error, Result};
use crate::image::{
    prepare, resized, Channels, Filter, ImagePreprocessing, Layout, OwnedImage, PixelDType, Pixels, Resize,
};
use crate::latency::{Mode, Stopwatch};
use crate::manifest::{Dim, Role};
use crate::model::LoadedModel;
use crate::package::{Form, Package};
use crate::tensor::{Array, TensorData};

/// The stages of an OCR package after its detector.
#[derive(Debug)]
pub struct Reader {
    settings: OcrSettings,
    classifier: Option<Engine>,
    recognizer: Engine,
    characters: Characters,
}

impl Reader {
    /// Loads the classifier's and recogniser's graphs, files of `package` (`MODEL_LOAD` when one
    /// is missing or does not load, or when the recogniser has no characters or a number of
    /// classes other than theirs).
    pub fn load(package: &Package, settings: &OcrSettings) -> Result<Reader> {
        let model = &package.manifest().name;
        let graph = |file: &str| {
            package.file(file).ok_or_else(|| Error::ModelLoad {
                model: model.clone(),
                detail: format!("the package's file {file:?} was not given (the manifest's ocr settings name it)"),
            })
        };
        // Each stage's graph in the package's form: ONNX, typed with the lines' fixed height
        // (and the classifier's fixed width), which the manifest gives; or its NNEF form,
        // written so typed (see `make models-nnef`).
        let load = |stage: &LineStage, width: Option<u32>| -> Result<Engine> {
            let file = stage.file_in(package.form());
            let bytes = graph(&file)?;
            let name = format!("{model} ({file})");
            #[cfg(not(feature = "onnx"))]
            let _ = width; // the NNEF form was typed with it when written
            let engine = match package.form() {
                #[cfg(feature = "onnx")]
                Form::Onnx => {
                    let fixed = |axis, size: u32| DimHint { input: 0, axis, size: HintedSize::Fixed(u64::from(size)) };
                    let mut hints = vec![fixed(2, stage.height)];
                    hints.extend(width.map(|width| fixed(3, width)));
                    Engine::load_hinted(&name, bytes.into(), &hints)?
                }
                Form::Nnef => Engine::load_nnef(&name, bytes, None)?,
                #[cfg(not(feature = "onnx"))]
                Form::Onnx => return Err(crate::model::no_onnx_parser(model)),
                Form::Rows => {
                    return Err(Error::ModelLoad {
                        model: model.clone(),
                        detail: format!("{file}: an OCR stage has no rows form (its graphs are not row programs)"),
                    })
                }
            };
            if engine.inputs().len() != 1 || engine.outputs().len() != 1 || engine.inputs()[0].dtype != "float32" {
                return Err(Error::ModelLoad {
                    model: model.clone(),
                    detail: format!("{file} is not a graph of one float32 image input and one output"),
                });
            }
            Ok(engine)
        };
        // The classifier's lines are always `width` wide (padded), the recogniser's as wide as
        // the widest of a batch.
        let classifier = settings.classifier.as_ref().map(|c| load(&c.stage, Some(c.stage.width))).transpose()?;
        let recognizer = load(&settings.recognizer.stage, None)?;
        let key = &settings.recognizer.characters;
        let property = format!("metadata_props.{key}");
        let text =
            recognizer.properties().iter().find(|(k, _)| *k == property).map(|(_, v)| v.as_str()).ok_or_else(|| {
                Error::ModelLoad {
                    model: model.clone(),
                    detail: format!(
                        "the recogniser's graph has no metadata property {key:?} (ocr.recognizer.characters)"
                    ),
                }
            })?;
        let characters = Characters::from_lines(text);
        if let Some(Dim::Fixed(classes)) = recognizer.outputs()[0].shape.last() {
            if *classes as usize != characters.len() {
                return Err(Error::ModelLoad {
                    model: model.clone(),
                    detail: format!(
                        "the recogniser has {classes} classes, its characters {} (with CTC's blank and a space)",
                        characters.len()
                    ),
                });
            }
        }
        Ok(Reader { settings: settings.clone(), classifier, recognizer, characters })
    }

    /// The NNEF forms of the stages' graphs (see [`Engine::to_nnef`]), by the ONNX file's name.
    #[cfg(feature = "onnx")]
    pub(crate) fn to_nnef(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut forms = vec![];
        if let (Some(settings), Some(engine)) = (&self.settings.classifier, &self.classifier) {
            forms.push((settings.stage.file.clone(), engine.to_nnef()?));
        }
        forms.push((self.settings.recognizer.stage.file.clone(), self.recognizer.to_nnef()?));
        Ok(forms)
    }

    /// One run of each stage on a small line, at load: what later runs reuse is set up then.
    pub(crate) fn warm_up(&mut self) -> Result<()> {
        let line = RgbImage::from_pixel(96, 32, imageproc::image::Rgb([128, 128, 128]));
        let mut lines = vec![line];
        self.classify(&mut lines, "(warm-up)")?;
        self.recognize(&lines, "(warm-up)")?;
        Ok(())
    }

    /// Turns the lines the classifier finds upside down.
    fn classify(&mut self, lines: &mut [RgbImage], model: &str) -> Result<()> {
        let (Some(settings), Some(engine)) = (&self.settings.classifier, &mut self.classifier) else { return Ok(()) };
        let ClassifierSettings { stage: LineStage { height, width, batch, .. }, threshold } = *settings;
        for group in by_aspect(lines).chunks(batch) {
            let tensor = batch_tensor(lines, group, height, width)?;
            let outputs = engine.run_all(vec![tensor])?;
            let scores = f32s(&outputs, model, "classifier")?;
            let classes = outputs[0].shape.last().copied().unwrap_or(0);
            if classes < 2 || scores.len() != classes * group.len() {
                return Err(inference(model, format!("the classifier returned shape {:?}", outputs[0].shape)));
            }
            for (&i, row) in group.iter().zip(scores.chunks_exact(classes)) {
                let best = crate::model::argmax(row);
                if best == 1 && row[1] > threshold {
                    lines[i] = crop::turn(&lines[i]);
                }
            }
        }
        Ok(())
    }

    /// Each line's text and score.
    fn recognize(&mut self, lines: &[RgbImage], model: &str) -> Result<Vec<(String, f32)>> {
        let RecognizerSettings { stage: LineStage { height, width, batch, .. }, .. } = self.settings.recognizer;
        let mut read = vec![(String::new(), 0.0); lines.len()];
        for group in by_aspect(lines).chunks(batch) {
            // As wide as the widest line of the batch, at least `width` (RapidOCR: int(h * ratio)).
            let widest = group.iter().map(|&i| aspect(&lines[i])).fold(width as f64 / height as f64, f64::max);
            let padded = ((height as f64 * widest) as u32).clamp(1, crate::image::MAX_SIDE);
            let tensor = batch_tensor(lines, group, height, padded)?;
            let outputs = self.recognizer.run_all(vec![tensor])?;
            let probabilities = f32s(&outputs, model, "recogniser")?;
            let shape = &outputs[0].shape;
            let classes = self.characters.len();
            if shape.len() != 3 || shape[0] != group.len() || shape[2] != classes {
                return Err(inference(
                    model,
                    format!("the recogniser returned shape {shape:?}, not [{}, columns, {classes}]", group.len()),
                ));
            }
            let per_line = shape[1] * classes;
            for (&i, line) in group.iter().zip(probabilities.chunks_exact(per_line.max(1))) {
                read[i] = ctc::decode(line, classes, &self.characters);
            }
        }
        Ok(read)
    }
}

fn inference(model: &str, detail: String) -> Error {
    Error::Inference { model: model.to_owned(), detail }
}

fn f32s<'a>(outputs: &'a [Array], model: &str, stage: &str) -> Result<&'a [f32]> {
    outputs
        .first()
        .and_then(|o| o.data.as_f32())
        .ok_or_else(|| inference(model, format!("the {stage} returned no float32 output")))
}

fn aspect(line: &RgbImage) -> f64 {
    line.width() as f64 / line.height().max(1) as f64
}

/// The lines' indices, narrowest (width over height) first, as RapidOCR batches them.
fn by_aspect(lines: &[RgbImage]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| aspect(&lines[a]).total_cmp(&aspect(&lines[b])));
    order
}

/// The `[n, 3, height, width]` tensor of some lines: each resized to `height`, its width
/// following up to `width` (bilinear), BGR, scaled to -1..1, the rest of its row zeros
/// (RapidOCR's `resize_norm_img`).
fn batch_tensor(lines: &[RgbImage], group: &[usize], height: u32, width: u32) -> Result<Array> {
    let (h, w) = (height as usize, width as usize);
    let mut data = vec![0.0f32; group.len() * 3 * h * w];
    for (slot, &i) in group.iter().enumerate() {
        let line = &lines[i];
        let resized = ((height as f64 * aspect(line)).ceil() as u32).clamp(1, width);
        let config = ImagePreprocessing {
            input: String::new(),
            resize: Resize::Stretch { width: resized, height },
            filter: Filter::Bilinear,
            channels: Channels::Bgr,
            scale: 1.0 / 255.0,
            mean: vec![0.5; 3],
            std: vec![0.5; 3],
            layout: Layout::Nchw,
            dtype: PixelDType::Float32,
        };
        let pixels = Pixels::new(line.as_raw(), line.width(), line.height(), 3).map_err(|e| e.into_error("ocr"))?;
        let tensor = prepare(&config, &pixels).map_err(|e| e.into_error("ocr"))?;
        let TensorData::F32(values) = tensor.data else { continue };
        let rw = resized as usize;
        for c in 0..3 {
            for y in 0..h {
                let from = (c * h + y) * rw;
                let to = ((slot * 3 + c) * h + y) * w;
                data[to..to + rw].copy_from_slice(&values[from..from + rw]);
            }
        }
    }
    Ok(Array { shape: vec![group.len(), 3, h, w], data: TensorData::F32(data) })
}

/// RapidOCR's `reduce_max_side` and `increase_min_side`: the image scaled (bilinear) so that its
/// longer side is at most `maxImageSide`, or its shorter side at least `minImageSide`, each side
/// then rounded to a multiple of 32; None when it fits already.
fn fit(pixels: &Pixels, settings: &super::DetectorSettings) -> Result<Option<OwnedImage>, crate::image::ImageError> {
    let (w, h) = (pixels.width() as f64, pixels.height() as f64);
    let ratio = if w.max(h) > settings.max_image_side as f64 {
        settings.max_image_side as f64 / w.max(h)
    } else if w.min(h) < settings.min_image_side as f64 {
        settings.min_image_side as f64 / w.min(h)
    } else {
        return Ok(None);
    };
    let side =
        |s: f64| ((((s * ratio).trunc() / 32.0).round_ties_even() * 32.0) as u32).clamp(32, crate::image::MAX_SIDE);
    resized(pixels, side(w), side(h), Filter::Bilinear).map(Some)
}

/// The caller's pixels as RGB, with `pad` black rows above and below.
fn rgb(pixels: &Pixels, pad: u32) -> RgbImage {
    let (w, h, c) = (pixels.width(), pixels.height(), pixels.channels() as usize);
    let mut image = RgbImage::new(w, h + 2 * pad);
    let data = pixels.data();
    let start = (pad * w) as usize * 3;
    let out = &mut image.as_mut()[start..start + (w * h) as usize * 3];
    for (to, from) in out.chunks_exact_mut(3).zip(data.chunks_exact(c)) {
        match c {
            1 => to.copy_from_slice(&[from[0]; 3]),
            _ => to.copy_from_slice(&from[..3]),
        }
    }
    image
}

impl LoadedModel {
    /// Reads images that each hold one line of text, already cut out (the classifier and the
    /// recogniser without the detector): each line's text and score, in the order given.
    pub fn read_lines(&mut self, lines: &[Pixels]) -> Result<Vec<(String, f32)>> {
        let model = self.manifest().name.clone();
        let max = self.manifest().max_image_pixels();
        let mut images = Vec::with_capacity(lines.len());
        for (i, pixels) in lines.iter().enumerate() {
            crate::vision::check_size(max, pixels.width(), pixels.height())
                .map_err(|e| e.into_error(&model).named(&format!("lines[{i}]")))?;
            images.push(rgb(pixels, 0));
        }
        let reader = self.ocr.as_mut().ok_or_else(|| {
            Error::bad_input(
                format!("model '{model}' does not read text"),
                "a model whose task is ocr",
                "another model",
            )
        })?;
        reader.classify(&mut images, &model)?;
        reader.recognize(&images, &model)
    }

    /// The lines of text in an image, read (task `ocr`): in reading order, each with its text,
    /// score and four corners in the image's pixels; with each stage's time and the call's,
    /// recorded as real-time.
    pub fn read_text(&mut self, pixels: &Pixels) -> Result<TextReading> {
        let model = self.manifest().name.clone();
        let no_reader = || {
            Error::bad_input(
                format!("model '{model}' does not read text"),
                "a model whose task is ocr",
                self.manifest().task.and_then(|t| serde_json::to_string(&t).ok()).unwrap_or_else(|| "no task".into()),
            )
        };
        let detector = self.ocr.as_ref().ok_or_else(no_reader)?.settings.detector;
        crate::vision::check_size(self.manifest().max_image_pixels(), pixels.width(), pixels.height())
            .map_err(|e| e.into_error(&model))?;
        let clock = Stopwatch::start();
        let mut timings = OcrTimings::default();

        // RapidOCR's preprocess: a large image scaled down, a small one up, sides multiples of 32.
        let (raw_w, raw_h) = (pixels.width(), pixels.height());
        let fitted = fit(pixels, &detector).map_err(|e| e.into_error(&model))?;
        let pixels = match &fitted {
            Some(image) => image.pixels().map_err(|e| e.into_error(&model))?,
            None => *pixels,
        };
        let (w, h) = (pixels.width(), pixels.height());
        // RapidOCR's letterbox: black rows above and below a short or very wide image.
        let short = detector.min_height > 0 && h <= detector.min_height;
        let wide = detector.max_aspect > 0 && w as f64 / h as f64 > detector.max_aspect as f64;
        let pad = if short || wide {
            let target = ((w as f64 / detector.max_aspect.max(1) as f64) as u32).max(detector.min_height) * 2;
            target.abs_diff(h) / 2
        } else {
            0
        };
        if h as u64 + 2 * pad as u64 > crate::image::MAX_SIDE as u64 {
            return Err(Error::bad_input(
                "the image is too wide for its height to be read",
                format!(
                    "at most {} pixels tall once padded to 1 / {} of its width",
                    crate::image::MAX_SIDE,
                    detector.max_aspect
                ),
                format!("{raw_w} x {raw_h}"),
            ));
        }
        let image = rgb(&pixels, pad);

        let stage = Stopwatch::start();
        let crate::preprocess::Preprocessing::Image(config) = &self.manifest().preprocessing else {
            return Err(inference(&model, "the ocr package's preprocessing is not an image's".into()));
        };
        let padded = Pixels::new(image.as_raw(), image.width(), image.height(), 3).map_err(|e| e.into_error(&model))?;
        let tensor = prepare(config, &padded).map_err(|e| e.into_error(&model))?;
        let outputs = self.engine.run_all(vec![Array { shape: tensor.shape.to_vec(), data: tensor.data }])?;
        let map_output = self
            .manifest()
            .output_with_role(Role::Probability)
            .and_then(|(_, o)| self.engine.outputs().iter().position(|g| g.name == o.name))
            .and_then(|p| outputs.get(p))
            .ok_or_else(|| inference(&model, "the detector returned no probability map".into()))?;
        let map =
            map_output.data.as_f32().ok_or_else(|| inference(&model, "the detector's map is not float32".into()))?;
        let (mh, mw) = match map_output.shape.as_slice() {
            [1, 1, mh, mw] if mh * mw == map.len() => (*mh, *mw),
            shape => {
                return Err(inference(&model, format!("the detector's map has shape {shape:?}, not [1, 1, H, W]")))
            }
        };
        let quads = find_lines(map, mw, mh, image.width(), image.height(), &detector);
        timings.detector_ms = stage.elapsed_ms();

        let stage = Stopwatch::start();
        let mut kept: Vec<Quad> = Vec::with_capacity(quads.len());
        let mut lines = Vec::with_capacity(quads.len());
        for quad in quads {
            if let Some(line) = crop::cut(&image, &quad) {
                kept.push(quad);
                lines.push(line);
            }
        }
        timings.crop_ms = stage.elapsed_ms();

        let reader = self.ocr.as_mut().ok_or_else(|| inference(&model, "the reader is gone".into()))?;
        let stage = Stopwatch::start();
        reader.classify(&mut lines, &model)?;
        timings.classifier_ms = stage.elapsed_ms();
        let stage = Stopwatch::start();
        let read = reader.recognize(&lines, &model)?;
        timings.recognizer_ms = stage.elapsed_ms();

        let threshold = reader.settings.recognizer.score_threshold;
        let (sx, sy) = (raw_w as f64 / w as f64, raw_h as f64 / h as f64);
        let lines = kept
            .into_iter()
            .zip(read)
            .filter(|(_, (_, score))| *score >= threshold)
            .map(|(quad, (text, score))| TextLine {
                text,
                score,
                corners: quad.map(|[x, y]| {
                    [(x * sx).clamp(0.0, raw_w as f64), ((y - pad as f64) * sy).clamp(0.0, raw_h as f64)]
                }),
            })
            .collect();
        let latency_ms = clock.elapsed_ms();
        self.record(Mode::Realtime, latency_ms, 1);
        Ok(TextReading { lines, timings, latency_ms })
    }
}
