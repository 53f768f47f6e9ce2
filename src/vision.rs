//! Images through a model: the caller's pixels made into the model's tensor
//! ([`crate::image::prepare`]), one run, and the outputs decoded for the task:
//! [`LoadedModel::predict_image`] for a classifier (its class and scores) or a regression, and
//! [`LoadedModel::detect`] for a detector (boxes in the caller's pixels,
//! [`crate::task::detection`]).

use crate::error::{Error, Result};
use crate::image::{prepare, ImageError, ImagePreprocessing, OwnedImage, Pixels, Placement};
use crate::latency::{Mode, Stopwatch};
use crate::manifest::Role;
use crate::model::{LoadedModel, Predictions};
use crate::preprocess::Preprocessing;
use crate::task::detection::{decode, Detection};
use crate::tensor::{Array, TensorData};

/// Boxes found in one image, best first, and how long the call took.
#[derive(Debug, Clone, PartialEq)]
pub struct Detections {
    pub boxes: Vec<Detection>,
    /// The class name of each box's `index`.
    pub labels: Vec<String>,
    pub latency_ms: f64,
}

/// Refuses an image of more than `max` pixels.
pub fn check_size(max: u64, width: u32, height: u32) -> Result<(), ImageError> {
    if width as u64 * height as u64 > max {
        return Err(ImageError::TooLarge { max, width, height });
    }
    Ok(())
}

impl LoadedModel {
    /// The image preprocessing, or the error that says this model takes something else.
    fn image_config(&self) -> Result<&ImagePreprocessing> {
        match &self.manifest().preprocessing {
            Preprocessing::Image(config) => Ok(config),
            other => Err(Error::bad_input(
                format!("model '{}' takes {}, not images", self.manifest().name, other.kind_of_input()),
                "the input the model takes (its manifest's preprocessing is not an image's)",
                "an image",
            )),
        }
    }

    /// Refuses `call` on a model whose task has a call of its own: a detector's `detect(image)`,
    /// an OCR package's `readText(image)`.
    fn refuse_per_image_task(&self, call: &str) -> Result<()> {
        let name = &self.manifest().name;
        let each = if call == "predict(image)" { "" } else { " for each image" };
        match self.manifest().task {
            Some(crate::manifest::Task::Detection) => Err(Error::bad_input(
                format!("model '{name}' is a detector"),
                format!("detect(image){each}, which returns its boxes"),
                call,
            )),
            Some(crate::manifest::Task::Ocr) => Err(Error::bad_input(
                format!("model '{name}' reads text"),
                format!("readText(image){each}, which returns its lines"),
                call,
            )),
            _ => Ok(()),
        }
    }

    /// True for a model whose input is an image.
    pub fn is_image(&self) -> bool {
        matches!(self.manifest().preprocessing, Preprocessing::Image(_))
    }

    /// Makes the tensor of `pixels` and runs the model on it.
    fn run_image(&mut self, pixels: &Pixels) -> Result<(Vec<Array>, Placement)> {
        let config = self.image_config()?;
        check_size(self.manifest().max_image_pixels(), pixels.width(), pixels.height())
            .map_err(|e| e.into_error(&self.manifest().name))?;
        let tensor = prepare(config, pixels).map_err(|e| e.into_error(&self.manifest().name))?;
        let outputs = self.engine.run_all(vec![Array { shape: tensor.shape.to_vec(), data: tensor.data }])?;
        Ok((outputs, tensor.placement))
    }

    /// One run at load on a mid-gray image of the model's size (of the smallest tensor for a
    /// model whose size follows the image's): what later runs reuse is set up then.
    pub(crate) fn warm_up_image(&mut self) -> Result<()> {
        let (height, width) = self.image_config()?.fixed_size().unwrap_or((1, 1));
        let gray = vec![128u8; width as usize * height as usize * 3];
        let pixels = Pixels::new(&gray, width, height, 3).map_err(|e| e.into_error(&self.manifest().name))?;
        self.run_image(&pixels).map(|_| ())
    }

    /// Appends the predictions of `images` (a batch's or a stream's) to `into`: each image made
    /// into its tensor (an error names it `rows[first + i]`), those of one shape run together on
    /// the batch dimension (every image, for a model of a fixed size).
    pub(crate) fn decode_images(&mut self, images: &[&OwnedImage], first: usize, into: &mut Predictions) -> Result<()> {
        self.refuse_per_image_task("a batch of images")?;
        let config = self.image_config()?;
        let max = self.manifest().max_image_pixels();
        let name = |i: usize, e: ImageError| e.into_error("(batch)").named(&format!("rows[{}]", first + i));
        let mut tensors = Vec::with_capacity(images.len());
        for (i, image) in images.iter().enumerate() {
            let pixels = image.pixels().map_err(|e| name(i, e))?;
            check_size(max, image.width, image.height).map_err(|e| name(i, e))?;
            let tensor = prepare(config, &pixels).map_err(|e| match e {
                ImageError::Resize { .. } => e.into_error(&self.manifest().name),
                e => name(i, e),
            })?;
            tensors.push(tensor);
        }
        let mut start = 0;
        while start < tensors.len() {
            let shape = tensors[start].shape;
            let end = start + tensors[start..].iter().take_while(|t| t.shape == shape).count();
            let mut data = Vec::new();
            let mut bytes = Vec::new();
            for t in &tensors[start..end] {
                match &t.data {
                    TensorData::F32(v) => data.extend_from_slice(v),
                    TensorData::U8(v) => bytes.extend_from_slice(v),
                    _ => {}
                }
            }
            let rows = end - start;
            let mut batched = shape.to_vec();
            batched[0] = rows;
            let data = if bytes.is_empty() { TensorData::F32(data) } else { TensorData::U8(bytes) };
            let outputs = self.engine.run_all(vec![Array { shape: batched, data }])?;
            self.decode_rows(&outputs, rows, into)?;
            start = end;
        }
        Ok(())
    }

    /// Predicts one image (an image classifier's `predict`): its class and scores, or a
    /// regression's values; with its latency, recorded as real-time.
    pub fn predict_image(&mut self, pixels: &Pixels) -> Result<crate::Timed> {
        self.refuse_per_image_task("predict(image)")?;
        let clock = Stopwatch::start();
        let (outputs, _) = self.run_image(pixels)?;
        let mut decoded = Predictions::default();
        self.decode_rows(&outputs, 1, &mut decoded)?;
        let prediction = decoded.into_first(self.labels());
        let latency_ms = clock.elapsed_ms();
        self.record(Mode::Realtime, latency_ms, 1);
        Ok(crate::Timed { prediction, latency_ms })
    }

    /// The boxes a detector finds in one image, best first, in the image's pixels; with the
    /// call's latency, recorded as real-time.
    pub fn detect(&mut self, pixels: &Pixels) -> Result<Detections> {
        let manifest = self.manifest();
        let (Some(settings), Some((_, spec))) = (manifest.detection, manifest.output_with_role(Role::Detections))
        else {
            return Err(Error::bad_input(
                format!("model '{}' is not a detector", manifest.name),
                "a model whose task is detection",
                manifest.task.and_then(|t| serde_json::to_string(&t).ok()).unwrap_or_else(|| "no task".into()),
            ));
        };
        let name = spec.name.clone();
        let labels = manifest.labels.clone().unwrap_or_default();
        let clock = Stopwatch::start();
        let (outputs, placement) = self.run_image(pixels)?;
        let model = &self.manifest().name;
        let position = self.engine.outputs().iter().position(|o| o.name == name);
        let output = position.and_then(|p| outputs.get(p)).ok_or_else(|| Error::Inference {
            model: model.clone(),
            detail: format!("the model returned no output {name:?}"),
        })?;
        let data = output.data.as_f32().ok_or_else(|| Error::Inference {
            model: model.clone(),
            detail: format!("the detections output is {}, not float32", output.data.dtype()),
        })?;
        let boxes = decode(&settings, data, &output.shape, &placement)
            .map_err(|detail| Error::Inference { model: model.clone(), detail })?;
        if let Some(bad) = boxes.iter().find(|b| b.index >= labels.len()) {
            return Err(Error::Inference {
                model: model.clone(),
                detail: format!("a box of class {}, beyond the {} labels", bad.index, labels.len()),
            });
        }
        let labels = boxes.iter().map(|b| labels[b.index].clone()).collect();
        let latency_ms = clock.elapsed_ms();
        self.record(Mode::Realtime, latency_ms, 1);
        Ok(Detections { boxes, labels, latency_ms })
    }
}
