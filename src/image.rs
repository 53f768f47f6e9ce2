//! Images in: the manifest's image preprocessing, and what turns a caller's pixels into the
//! tensor a model takes ([`prepare`]): resized with fast_image_resize (SIMD in wasm, the same
//! pixels in every browser and in Node), then cropped or letterboxed to the model's size, its
//! channels put in the model's order, scaled, normalised and laid out. The [`Placement`] of the
//! result maps the tensor's coordinates back to the caller's pixels (a detection's boxes).
//! Errors are [`ImageError`]s, which say which field of the caller's image is wrong.
//!
//! Everything here is plain Rust; how a model's graph is fed and read is in
//! [`crate::model`], what its outputs mean in [`crate::task`].

#[cfg(feature = "image")]
use fast_image_resize as fir;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::tensor::TensorData;

/// The longest side of an image edgeserve takes, in pixels (a caller's image or a model's size).
pub const MAX_SIDE: u32 = 16_384;

/// The manifest's `preprocessing` of an image model (`"type": "image"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImagePreprocessing {
    /// The graph input that takes the image tensor, `[1, C, H, W]` or `[1, H, W, C]` (`layout`).
    pub input: String,
    /// How the image gets to the model's size.
    pub resize: Resize,
    /// The resampling filter.
    #[serde(default)]
    pub filter: Filter,
    /// The model's channels, in its order.
    #[serde(default)]
    pub channels: Channels,
    /// Each 0..255 value is multiplied by this first (1/255 for a model trained on 0..1).
    #[serde(default = "one")]
    pub scale: f32,
    /// Subtracted from each scaled value, one per channel of the model, in its order (none: 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mean: Vec<f32>,
    /// What the value is then divided by, one per channel (none: 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub std: Vec<f32>,
    /// Where the channels are in the tensor.
    #[serde(default)]
    pub layout: Layout,
    /// The tensor's element type: `float32`, or `uint8` for a model that takes the pixels as they
    /// are (then `scale`, `mean` and `std` are not given).
    #[serde(default)]
    pub dtype: PixelDType,
}

impl ImagePreprocessing {
    /// The height and width of the model's input (the graph's input `input`) as the resize
    /// makes them: multiples of `of` in mode `multiple`; nothing to add in the other modes,
    /// whose sizes the graph fixes.
    pub fn dim_hints(&self, input: usize) -> Vec<crate::engine::DimHint> {
        use crate::engine::{DimHint, HintedSize};
        let Resize::Multiple { of, .. } = self.resize else { return vec![] };
        let (height, width) = match self.layout {
            Layout::Nchw => (2, 3),
            Layout::Nhwc => (1, 2),
        };
        [height, width].map(|axis| DimHint { input, axis, size: HintedSize::MultipleOf(u64::from(of)) }).to_vec()
    }
}

fn one() -> f32 {
    1.0
}

/// How an image of any size gets to the model's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Resize {
    /// Both sides to the model's, the aspect ratio not kept.
    Stretch { width: u32, height: u32 },
    /// The shorter side to `shorter` pixels (default: the larger of `width` and `height`), the
    /// longer side in proportion (rounded down), then the centre `width x height` cut out:
    /// torchvision's `Resize(shorter)` then `CenterCrop`.
    CenterCrop {
        width: u32,
        height: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shorter: Option<u32>,
    },
    /// The whole image scaled to fit `width x height`, the aspect ratio kept, centred, and the
    /// rest filled with `fill` in every channel: YOLO's letterbox (default fill 114).
    Letterbox {
        width: u32,
        height: u32,
        #[serde(default = "letterbox_fill")]
        fill: u8,
    },
    /// The aspect ratio kept and each side rounded to a multiple of `of`: scaled up so that the
    /// shorter side is at least `minSide` when given, then down so that the longer side is at
    /// most `maxSide` (a text detector's input; the tensor's size changes with the image's).
    Multiple {
        of: u32,
        max_side: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_side: Option<u32>,
    },
}

fn letterbox_fill() -> u8 {
    114
}

/// The resampling filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    /// The source pixel whose centre is nearest (OpenCV's `INTER_NEAREST_EXACT`, Pillow's
    /// `NEAREST`).
    Nearest,
    /// Bilinear over the two nearest pixels on each axis, without antialiasing: OpenCV's
    /// `INTER_LINEAR` (within 1 of 255).
    #[default]
    Bilinear,
    /// The mean of the source pixels under each target pixel (a box filter): OpenCV's
    /// `INTER_AREA` when the image shrinks by a whole factor, Pillow's `BOX` otherwise.
    Area,
}

/// A model's channels, in its order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    #[default]
    Rgb,
    Bgr,
    /// One channel: the luma of ITU-R BT.601 (OpenCV's `COLOR_RGB2GRAY`, in its fixed point).
    Gray,
}

impl Channels {
    /// How many.
    pub fn count(self) -> usize {
        match self {
            Channels::Rgb | Channels::Bgr => 3,
            Channels::Gray => 1,
        }
    }
}

/// Where the channels are in the tensor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `[1, C, H, W]` (PyTorch's).
    #[default]
    Nchw,
    /// `[1, H, W, C]` (TensorFlow's).
    Nhwc,
}

/// The image tensor's element type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelDType {
    #[default]
    Float32,
    Uint8,
}

impl ImagePreprocessing {
    /// Checks the fields on their own, as (field, expected, found).
    pub fn validate(&self) -> Result<(), (String, String, String)> {
        let e = |f: &str, x: String, g: String| Err((f.to_owned(), x, g));
        let side = |f: &str, v: u32| {
            if v == 0 || v > MAX_SIDE {
                e(f, format!("a number of pixels from 1 to {MAX_SIDE}"), v.to_string())
            } else {
                Ok(())
            }
        };
        if self.input.is_empty() {
            return e("input", "the name of the graph input that takes the image".into(), "\"\"".into());
        }
        match self.resize {
            Resize::Stretch { width, height } | Resize::Letterbox { width, height, .. } => {
                side("resize.width", width)?;
                side("resize.height", height)?;
            }
            Resize::CenterCrop { width, height, shorter } => {
                side("resize.width", width)?;
                side("resize.height", height)?;
                if let Some(shorter) = shorter {
                    side("resize.shorter", shorter)?;
                    if shorter < width.max(height) {
                        return e(
                            "resize.shorter",
                            format!("at least the crop's larger side, {}", width.max(height)),
                            shorter.to_string(),
                        );
                    }
                }
            }
            Resize::Multiple { of, max_side, min_side } => {
                side("resize.of", of)?;
                side("resize.maxSide", max_side)?;
                if max_side < of {
                    return e("resize.maxSide", format!("at least `of`, {of}"), max_side.to_string());
                }
                if let Some(min_side) = min_side {
                    side("resize.minSide", min_side)?;
                    if min_side > max_side {
                        return e("resize.minSide", format!("at most maxSide, {max_side}"), min_side.to_string());
                    }
                }
            }
        }
        if !(self.scale.is_finite() && self.scale != 0.0) {
            return e("scale", "a finite, non-zero number".into(), self.scale.to_string());
        }
        let count = self.channels.count();
        for (field, values) in [("mean", &self.mean), ("std", &self.std)] {
            if !values.is_empty() && values.len() != count {
                return e(
                    field,
                    format!("{count} values, one per channel of {:?}, or none", self.channels),
                    format!("{} values", values.len()),
                );
            }
        }
        if let Some(i) = self.mean.iter().position(|m| !m.is_finite()) {
            return e(&format!("mean[{i}]"), "a finite number".into(), self.mean[i].to_string());
        }
        if let Some(i) = self.std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return e(&format!("std[{i}]"), "a finite positive number".into(), self.std[i].to_string());
        }
        if self.dtype == PixelDType::Uint8 && (self.scale != 1.0 || !self.mean.is_empty() || !self.std.is_empty()) {
            return e(
                "dtype",
                "float32 where scale, mean or std is given (uint8 takes the pixels as they are)".into(),
                "uint8".into(),
            );
        }
        Ok(())
    }

    /// The tensor's height and width for a `width x height` image: the model's size, or for
    /// [`Resize::Multiple`] the image's scaled to multiples.
    pub fn tensor_size(&self, width: u32, height: u32) -> (u32, u32) {
        match self.resize {
            Resize::Stretch { width, height }
            | Resize::CenterCrop { width, height, .. }
            | Resize::Letterbox { width, height, .. } => (height, width),
            Resize::Multiple { .. } => {
                let p = self.place(width, height);
                (p.resized.1, p.resized.0)
            }
        }
    }

    /// The fixed `[height, width]` of the tensor, or None when it follows the image's.
    pub fn fixed_size(&self) -> Option<(u32, u32)> {
        match self.resize {
            Resize::Multiple { .. } => None,
            _ => Some(self.tensor_size(1, 1)),
        }
    }

    /// The tensor's shape for a tensor of `height x width`.
    pub fn shape(&self, height: u32, width: u32) -> [usize; 4] {
        let (c, h, w) = (self.channels.count(), height as usize, width as usize);
        match self.layout {
            Layout::Nchw => [1, c, h, w],
            Layout::Nhwc => [1, h, w, c],
        }
    }

    /// Where an image of `width x height` goes in the tensor.
    fn place(&self, width: u32, height: u32) -> Place {
        let (w, h) = (width as f64, height as f64);
        match self.resize {
            Resize::Stretch { width: tw, height: th } => Place { resized: (tw, th), offset: (0, 0), tensor: (tw, th) },
            Resize::CenterCrop { width: tw, height: th, shorter } => {
                let shorter = shorter.unwrap_or(tw.max(th));
                // torchvision: the longer side is int(shorter * long / short).
                let (rw, rh) = if width <= height {
                    (shorter, ((shorter as f64 * h / w) as u32).max(1))
                } else {
                    (((shorter as f64 * w / h) as u32).max(1), shorter)
                };
                // torchvision: int(round((size - crop) / 2)), Python's round (half to even).
                let (rw, rh) = (rw.max(tw), rh.max(th));
                let left = ((rw - tw) as f64 / 2.0).round_ties_even() as i64;
                let top = ((rh - th) as f64 / 2.0).round_ties_even() as i64;
                Place { resized: (rw, rh), offset: (-left, -top), tensor: (tw, th) }
            }
            Resize::Letterbox { width: tw, height: th, .. } => {
                // Ultralytics' LetterBox: r = min(tw / w, th / h), sides int(round(side * r)),
                // padding round(d / 2 - 0.1) before and round(d / 2 + 0.1) after.
                let r = (tw as f64 / w).min(th as f64 / h);
                let rw = ((w * r).round_ties_even() as u32).clamp(1, tw);
                let rh = ((h * r).round_ties_even() as u32).clamp(1, th);
                let left = ((tw - rw) as f64 / 2.0 - 0.1).round_ties_even() as i64;
                let top = ((th - rh) as f64 / 2.0 - 0.1).round_ties_even() as i64;
                Place { resized: (rw, rh), offset: (left, top), tensor: (tw, th) }
            }
            Resize::Multiple { of, max_side, min_side } => {
                // PaddleOCR's DetResizeForTest, both limits: up to minSide, then down to maxSide.
                let mut ratio = 1.0f64;
                if let Some(min_side) = min_side {
                    if w.min(h) < min_side as f64 {
                        ratio = min_side as f64 / w.min(h);
                    }
                }
                if w.max(h) * ratio > max_side as f64 {
                    ratio = max_side as f64 / w.max(h);
                }
                // PaddleOCR: int(side * ratio), then round(/ of) * of (half to even), at least `of`.
                let to_multiple = |side: f64| {
                    let scaled = (side * ratio).trunc();
                    let n = ((scaled / of as f64).round_ties_even() as u32).max(1);
                    (n * of).min(max_side / of * of)
                };
                let (rw, rh) = (to_multiple(w), to_multiple(h));
                Place { resized: (rw, rh), offset: (0, 0), tensor: (rw, rh) }
            }
        }
    }
}

/// Where an image goes in the tensor: resized to `resized` (width, height), its top left corner
/// at `offset` in a tensor of `tensor` (negative: cropped).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    resized: (u32, u32),
    offset: (i64, i64),
    tensor: (u32, u32),
}

/// How the tensor's coordinates map back to the caller's image: a point `(x, y)` of the tensor
/// (in its pixels, 0 at the left edge) is `((x - offsetX) / scaleX, (y - offsetY) / scaleY)`
/// in the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale_x: f64,
    pub scale_y: f64,
    pub offset_x: f64,
    pub offset_y: f64,
    /// The caller's image, in pixels.
    pub image_width: u32,
    pub image_height: u32,
    /// The tensor's, in pixels.
    pub tensor_width: u32,
    pub tensor_height: u32,
}

impl Placement {
    /// A point of the tensor in the caller's image, clamped to its edges.
    pub fn to_image(&self, x: f64, y: f64) -> (f64, f64) {
        (
            ((x - self.offset_x) / self.scale_x).clamp(0.0, self.image_width as f64),
            ((y - self.offset_y) / self.scale_y).clamp(0.0, self.image_height as f64),
        )
    }
}

/// A caller's image: 8-bit pixels, row after row, with 1 (gray), 3 (RGB) or 4 (RGBA, as
/// `ImageData` holds them; the alpha is ignored) channels each.
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    channels: u8,
}

impl<'a> Pixels<'a> {
    /// Checks the sizes: each side 1 to [`MAX_SIDE`], channels 1, 3 or 4, and exactly
    /// `width * height * channels` bytes.
    pub fn new(data: &'a [u8], width: u32, height: u32, channels: u8) -> Result<Pixels<'a>, ImageError> {
        for (field, value) in [("width", width), ("height", height)] {
            if value == 0 || value > MAX_SIDE {
                return Err(ImageError::Side { field, value: value as u64 });
            }
        }
        if !matches!(channels, 1 | 3 | 4) {
            return Err(ImageError::Channels { channels: channels as u64 });
        }
        let expected = width as usize * height as usize * channels as usize;
        if data.len() != expected {
            return Err(ImageError::DataLength { expected, got: data.len(), width, height, channels });
        }
        Ok(Pixels { data, width, height, channels })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// The bytes, row after row, `channels` per pixel.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    #[cfg(feature = "image")]
    fn pixel_type(&self) -> fir::PixelType {
        match self.channels {
            1 => fir::PixelType::U8,
            3 => fir::PixelType::U8x3,
            _ => fir::PixelType::U8x4,
        }
    }
}

/// A caller's image held by edgeserve (a batch's or a stream's): [`Pixels`] of its own bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedImage {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub channels: u8,
}

impl OwnedImage {
    /// The pixels, checked as [`Pixels::new`] checks them.
    pub fn pixels(&self) -> Result<Pixels<'_>, ImageError> {
        Pixels::new(&self.data, self.width, self.height, self.channels)
    }
}

/// The tensor made from an image, and where the image is in it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTensor {
    pub data: TensorData,
    pub shape: [usize; 4],
    pub placement: Placement,
}

/// What can go wrong with a caller's image.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImageError {
    /// A side of zero or beyond [`MAX_SIDE`].
    #[error("the image's {field} is not a size edgeserve takes: expected a whole number of pixels from 1 to {MAX_SIDE}, got {value}")]
    Side { field: &'static str, value: u64 },
    /// More pixels than the model takes (its manifest's `limits.maxImagePixels`).
    #[error("the image is larger than the model takes: expected at most {max} pixels (limits.maxImagePixels), got {width} x {height}")]
    TooLarge { max: u64, width: u32, height: u32 },
    /// Channels other than 1, 3 or 4.
    #[error(
        "the image's channels are not a count edgeserve takes: expected 1 (gray), 3 (RGB) or 4 (RGBA), got {channels}"
    )]
    Channels { channels: u64 },
    /// Pixel data whose length does not fit the sizes.
    #[error("the image's data has the wrong length: expected {expected} bytes ({width} x {height} pixels, {channels} channels each), got {got}")]
    DataLength { expected: usize, got: usize, width: u32, height: u32, channels: u8 },
    /// An image of another size than the tensor's, in a build without a resizer.
    #[error("the image is not the model's size, and this build has no resizer (the `image` feature): expected {width} x {height} pixels, got {got_width} x {got_height}")]
    NoResizer { width: u32, height: u32, got_width: u32, got_height: u32 },
    /// The resizer refused the image (a bug: sizes are checked before).
    #[error("the image cannot be resized: {detail}")]
    Resize { detail: String },
}

impl ImageError {
    /// The core error: what the caller gave is `BAD_INPUT`; a resizer failure is `INFERENCE`.
    pub fn into_error(self, model: &str) -> Error {
        match &self {
            ImageError::Resize { detail } => Error::Inference { model: model.to_owned(), detail: detail.clone() },
            ImageError::NoResizer { width, height, got_width, got_height } => Error::bad_input(
                "the image is not the model's size, and this build has no resizer (the `image` feature)",
                format!("{width} x {height} pixels"),
                format!("{got_width} x {got_height}"),
            ),
            ImageError::Side { field, value } => Error::bad_input(
                format!("the image's {field} is not a size edgeserve takes"),
                format!("a whole number of pixels from 1 to {MAX_SIDE}"),
                value.to_string(),
            ),
            ImageError::TooLarge { max, width, height } => Error::bad_input(
                "the image is larger than the model takes",
                format!("at most {max} pixels (limits.maxImagePixels)"),
                format!("{width} x {height}"),
            ),
            ImageError::Channels { channels } => Error::bad_input(
                "the image's channels are not a count edgeserve takes",
                "1 (gray), 3 (RGB) or 4 (RGBA)",
                channels.to_string(),
            ),
            ImageError::DataLength { expected, got, width, height, channels } => Error::bad_input(
                "the image's data has the wrong length",
                format!("{expected} bytes ({width} x {height} pixels, {channels} channels each)"),
                format!("{got} bytes"),
            ),
        }
    }
}

/// Makes the tensor the model takes from `pixels`, as `config` says. One copy of the pixels is
/// made when they are resized (none when they have the size already), then each tensor value is
/// written once, through a table of the 256 values each channel's bytes become.
pub fn prepare(config: &ImagePreprocessing, pixels: &Pixels) -> Result<ImageTensor, ImageError> {
    let place = config.place(pixels.width, pixels.height);
    let (rw, rh) = place.resized;
    let (tw, th) = place.tensor;
    let (ox, oy) = place.offset;
    // The pixels that go into the tensor: the caller's as they are (already of the size), or the
    // part of the resized image inside the tensor, resized alone (a centre crop's sides are not
    // resized to be cut off); `(bx, by)` is where their top left corner goes in the tensor.
    let resized;
    let (data, bw, bh, bx, by) = if (rw, rh) == (pixels.width, pixels.height) {
        (pixels.data, rw, rh, ox, oy)
    } else {
        let visible = |offset: i64, resized: u32, tensor: u32| {
            let start = (-offset).clamp(0, resized as i64) as u32;
            (start, ((tensor as i64 - offset).clamp(0, resized as i64) as u32).saturating_sub(start))
        };
        let (x0, vw) = visible(ox, rw, tw);
        let (y0, vh) = visible(oy, rh, th);
        let (sx, sy) = (pixels.width as f64 / rw as f64, pixels.height as f64 / rh as f64);
        let (cx, cy) = (x0 as f64 * sx, y0 as f64 * sy);
        // Within the image: `rw * (width / rw)` can be an ulp over `width`, which the resizer refuses.
        let crop =
            [cx, cy, (vw as f64 * sx).min(pixels.width as f64 - cx), (vh as f64 * sy).min(pixels.height as f64 - cy)];
        resized = resize(pixels, crop, vw.max(1), vh.max(1), config.filter)?;
        (resized.as_slice(), vw, vh, ox + x0 as i64, oy + y0 as i64)
    };
    let stride = bw as usize * pixels.channels as usize;
    let shape = config.shape(th, tw);
    let count = config.channels.count();
    let fill = match config.resize {
        Resize::Letterbox { fill, .. } => fill,
        _ => 0,
    };
    let source = SourceChannels::new(pixels.channels, config.channels);
    let plane = tw as usize * th as usize;
    let index = |x: usize, y: usize, c: usize| match config.layout {
        Layout::Nchw => c * plane + y * tw as usize + x,
        Layout::Nhwc => (y * tw as usize + x) * count + c,
    };
    let mut bytes = vec![fill; plane * count];
    for y in 0..th as i64 {
        let sy = y - by;
        if sy < 0 || sy >= bh as i64 {
            continue;
        }
        let row = &data[sy as usize * stride..(sy as usize + 1) * stride];
        for x in 0..tw as i64 {
            let sx = x - bx;
            if sx < 0 || sx >= bw as i64 {
                continue;
            }
            let pixel = &row[sx as usize * pixels.channels as usize..(sx as usize + 1) * pixels.channels as usize];
            for c in 0..count {
                bytes[index(x as usize, y as usize, c)] = source.value(pixel, c);
            }
        }
    }
    let data = match config.dtype {
        PixelDType::Uint8 => TensorData::U8(bytes),
        PixelDType::Float32 => {
            let tables: Vec<[f32; 256]> = (0..count)
                .map(|c| {
                    let mean = config.mean.get(c).copied().unwrap_or(0.0);
                    let std = config.std.get(c).copied().unwrap_or(1.0);
                    std::array::from_fn(|v| (v as f32 * config.scale - mean) / std)
                })
                .collect();
            let f: Vec<f32> = match config.layout {
                Layout::Nchw => bytes.iter().enumerate().map(|(i, &v)| tables[i / plane][v as usize]).collect(),
                Layout::Nhwc => bytes.iter().enumerate().map(|(i, &v)| tables[i % count][v as usize]).collect(),
            };
            TensorData::F32(f)
        }
    };
    // A letterbox maps back by its one ratio (Ultralytics' scale_boxes), any other resize by
    // each side's.
    let (scale_x, scale_y) = match config.resize {
        Resize::Letterbox { width: tw, height: th, .. } => {
            let r = (tw as f64 / pixels.width as f64).min(th as f64 / pixels.height as f64);
            (r, r)
        }
        _ => (rw as f64 / pixels.width as f64, rh as f64 / pixels.height as f64),
    };
    let placement = Placement {
        scale_x,
        scale_y,
        offset_x: ox as f64,
        offset_y: oy as f64,
        image_width: pixels.width,
        image_height: pixels.height,
        tensor_width: tw,
        tensor_height: th,
    };
    Ok(ImageTensor { data, shape, placement })
}

/// Resizes the part `crop` (left, top, width, height, in the image's pixels) of the pixels to
/// `width x height` (the same channels).
#[cfg(feature = "image")]
fn resize(pixels: &Pixels, crop: [f64; 4], width: u32, height: u32, filter: Filter) -> Result<Vec<u8>, ImageError> {
    let fail = |e: &dyn std::fmt::Display| ImageError::Resize { detail: e.to_string() };
    let source = fir::images::ImageRef::new(pixels.width, pixels.height, pixels.data, pixels.pixel_type())
        .map_err(|e| fail(&e))?;
    let mut target = fir::images::Image::new(width, height, pixels.pixel_type());
    let algorithm = match filter {
        Filter::Nearest => fir::ResizeAlg::Nearest,
        Filter::Bilinear => fir::ResizeAlg::Interpolation(fir::FilterType::Bilinear),
        Filter::Area => fir::ResizeAlg::Convolution(fir::FilterType::Box),
    };
    // The alpha of RGBA pixels is not applied: the colour channels are resized as they are.
    let [left, top, crop_width, crop_height] = crop;
    let options =
        fir::ResizeOptions::new().resize_alg(algorithm).use_alpha(false).crop(left, top, crop_width, crop_height);
    fir::Resizer::new().resize(&source, &mut target, &options).map_err(|e| fail(&e))?;
    Ok(target.into_vec())
}

/// The pixels resized to `width x height` with `filter`, in their own channels.
pub fn resized(pixels: &Pixels, width: u32, height: u32, filter: Filter) -> Result<OwnedImage, ImageError> {
    let crop = [0.0, 0.0, pixels.width as f64, pixels.height as f64];
    let data = resize(pixels, crop, width, height, filter)?;
    Ok(OwnedImage { data, width, height, channels: pixels.channels })
}

/// Without the `image` feature there is no resizer: only images of the tensor's size.
#[cfg(not(feature = "image"))]
fn resize(pixels: &Pixels, _: [f64; 4], width: u32, height: u32, _: Filter) -> Result<Vec<u8>, ImageError> {
    Err(ImageError::NoResizer { width, height, got_width: pixels.width, got_height: pixels.height })
}

/// Which byte of a source pixel each of the model's channels takes.
enum SourceChannels {
    /// The model's channel `c` is the pixel's byte `order[c]`.
    Bytes([usize; 3]),
    /// The luma of an RGB(A) pixel.
    Luma,
}

impl SourceChannels {
    fn new(source: u8, model: Channels) -> SourceChannels {
        match (source, model) {
            (1, _) => SourceChannels::Bytes([0, 0, 0]),
            (_, Channels::Rgb) => SourceChannels::Bytes([0, 1, 2]),
            (_, Channels::Bgr) => SourceChannels::Bytes([2, 1, 0]),
            (_, Channels::Gray) => SourceChannels::Luma,
        }
    }

    fn value(&self, pixel: &[u8], c: usize) -> u8 {
        match self {
            SourceChannels::Bytes(order) => pixel[order[c]],
            // OpenCV's RGB2GRAY: 0.299, 0.587, 0.114 in 14-bit fixed point, rounded.
            SourceChannels::Luma => {
                ((pixel[0] as u32 * 4899 + pixel[1] as u32 * 9617 + pixel[2] as u32 * 1868 + (1 << 13)) >> 14) as u8
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(resize: Resize) -> ImagePreprocessing {
        ImagePreprocessing {
            input: "x".into(),
            resize,
            filter: Filter::Bilinear,
            channels: Channels::Rgb,
            scale: 1.0,
            mean: vec![],
            std: vec![],
            layout: Layout::Nchw,
            dtype: PixelDType::Uint8,
        }
    }

    #[test]
    fn letterbox_places_as_ultralytics() {
        let c = config(Resize::Letterbox { width: 640, height: 640, fill: 114 });
        // 1280x720 -> r 0.5 -> 640x360, padding (640 - 360) / 2 = 140 above.
        assert_eq!(c.place(1280, 720), Place { resized: (640, 360), offset: (0, 140), tensor: (640, 640) });
        // 500x333 -> r 1.28 -> 640x426, padding 214 / 2 - 0.1 -> 107.
        assert_eq!(c.place(500, 333), Place { resized: (640, 426), offset: (0, 107), tensor: (640, 640) });
    }

    #[test]
    fn center_crop_places_as_torchvision() {
        let c = config(Resize::CenterCrop { width: 224, height: 224, shorter: Some(256) });
        // 640x480 -> 341x256 (int(256 * 640 / 480)), crop left round(117 / 2) = 58 (half to even).
        assert_eq!(c.place(640, 480), Place { resized: (341, 256), offset: (-58, -16), tensor: (224, 224) });
    }

    #[test]
    fn multiple_rounds_each_side() {
        let c = config(Resize::Multiple { of: 32, max_side: 960, min_side: None });
        assert_eq!(c.place(1920, 1080).resized, (960, 544));
        assert_eq!(c.place(100, 50).resized, (96, 64));
        let c = config(Resize::Multiple { of: 32, max_side: 2000, min_side: Some(736) });
        assert_eq!(c.place(400, 200).resized, (1472, 736));
    }

    #[test]
    fn letterbox_fills_and_maps_back() -> Result<(), ImageError> {
        // A 4x2 white image into 4x4: rows 1 and 2 hold it, rows 0 and 3 are the fill.
        let white = [255u8; 4 * 2 * 3];
        let pixels = Pixels::new(&white, 4, 2, 3)?;
        let t = prepare(&config(Resize::Letterbox { width: 4, height: 4, fill: 114 }), &pixels)?;
        assert_eq!(t.shape, [1, 3, 4, 4]);
        let TensorData::U8(v) = &t.data else { panic!("uint8") };
        assert_eq!(&v[..4], &[114; 4]);
        assert_eq!(&v[4..12], &[255; 8]);
        assert_eq!(&v[12..16], &[114; 4]);
        assert_eq!(t.placement.to_image(2.0, 1.0), (2.0, 0.0));
        assert_eq!(t.placement.to_image(4.0, 3.0), (4.0, 2.0));
        Ok(())
    }

    #[test]
    fn channels_and_normalisation() -> Result<(), ImageError> {
        let rgba = [10u8, 20, 30, 0];
        let pixels = Pixels::new(&rgba, 1, 1, 4)?;
        let mut c = config(Resize::Stretch { width: 1, height: 1 });
        c.dtype = PixelDType::Float32;
        c.channels = Channels::Bgr;
        c.scale = 0.5;
        c.mean = vec![1.0, 2.0, 3.0];
        c.std = vec![2.0, 2.0, 2.0];
        let t = prepare(&c, &pixels)?;
        assert_eq!(t.data, TensorData::F32(vec![7.0, 4.0, 1.0]));
        c.channels = Channels::Gray;
        c.mean = vec![];
        c.std = vec![];
        c.scale = 1.0;
        let t = prepare(&c, &pixels)?;
        // 0.299 * 10 + 0.587 * 20 + 0.114 * 30 = 18.15.
        assert_eq!(t.data, TensorData::F32(vec![18.0]));
        Ok(())
    }

    #[test]
    fn bad_pixels_say_which_field() {
        assert_eq!(Pixels::new(&[0; 3], 0, 1, 3).unwrap_err(), ImageError::Side { field: "width", value: 0 });
        assert_eq!(Pixels::new(&[0; 3], 1, 1, 2).unwrap_err(), ImageError::Channels { channels: 2 });
        assert!(matches!(Pixels::new(&[0; 5], 1, 2, 3), Err(ImageError::DataLength { expected: 6, got: 5, .. })));
    }
}
