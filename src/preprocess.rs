//! Raw features -> model input, as the manifest's `preprocessing` says. The one place where
//! inputs are checked (length, finite values, raw range) and transformed; every serving mode
//! goes through [`Preprocessing::apply_row`].

use serde::{Deserialize, Serialize};

use crate::audio::AudioPreprocessing;
use crate::error::{Error, Result};
use crate::image::ImagePreprocessing;
use crate::text::TextPreprocessing;

/// What edgeserve applies to a raw input row before the model. Callers always pass raw
/// features (for the digits packages: pixel intensities 0..16).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Preprocessing {
    /// The model takes raw features as they come.
    None {
        /// Optional `[min, max]` that every raw value must lie in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        range: Option<[f32; 2]>,
    },
    /// `x * scale + offset`, the same for every feature.
    Affine {
        scale: f32,
        offset: f32,
        /// Optional `[min, max]` that every raw value must lie in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        range: Option<[f32; 2]>,
    },
    /// `(x - mean[i]) / std[i]` per feature (a standard scaler).
    Standardize {
        mean: Vec<f32>,
        std: Vec<f32>,
        /// Optional `[min, max]` that every raw value must lie in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        range: Option<[f32; 2]>,
    },
    /// Text through the package's tokenizer (see [`crate::text`]).
    Text(TextPreprocessing),
    /// Audio, resampled and cut into chunks (see [`crate::audio`]).
    Audio(AudioPreprocessing),
    /// An image, resized and normalised into the model's tensor (see [`crate::image`]).
    Image(ImagePreprocessing),
}

impl Default for Preprocessing {
    fn default() -> Self {
        Preprocessing::None { range: None }
    }
}

/// How errors name a row: `input` for a single prediction, `rows[i]` in a batch or stream,
/// `rows` for a batch given as one flat array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowName {
    Input,
    Row(usize),
    Flat,
    /// Audio samples (`samples`).
    Samples,
    /// A model state given back (`state[i]`).
    State(usize),
}

impl std::fmt::Display for RowName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowName::Input => f.write_str("input"),
            RowName::Row(i) => write!(f, "rows[{i}]"),
            RowName::Flat => f.write_str("rows"),
            RowName::Samples => f.write_str("samples"),
            RowName::State(i) => write!(f, "state[{i}]"),
        }
    }
}

/// (field, expected, found) of a preprocessing that does not fit its model.
pub type FieldError = (String, String, String);

impl Preprocessing {
    /// The `[min, max]` raw values must lie in, when the manifest gives one.
    pub fn raw_range(&self) -> Option<[f32; 2]> {
        match self {
            Preprocessing::None { range }
            | Preprocessing::Affine { range, .. }
            | Preprocessing::Standardize { range, .. } => *range,
            Preprocessing::Text(_) | Preprocessing::Audio(_) | Preprocessing::Image(_) => None,
        }
    }

    /// The manifest's name of this preprocessing (its `type`).
    pub fn kind(&self) -> &'static str {
        match self {
            Preprocessing::None { .. } => "none",
            Preprocessing::Affine { .. } => "affine",
            Preprocessing::Standardize { .. } => "standardize",
            Preprocessing::Text(_) => "text",
            Preprocessing::Audio(_) => "audio",
            Preprocessing::Image(_) => "image",
        }
    }

    /// What a model with this preprocessing takes, for errors: "rows of numbers", "text", ...
    pub fn kind_of_input(&self) -> &'static str {
        match self {
            Preprocessing::Text(_) => "text",
            Preprocessing::Audio(_) => "audio",
            Preprocessing::Image(_) => "images",
            _ => "rows of numbers",
        }
    }

    /// Checks the parameters against the row width of the model.
    pub fn validate(&self, width: usize) -> std::result::Result<(), FieldError> {
        let e = |f: &str, x: String, g: String| Err((f.to_owned(), x, g));
        if let Some([lo, hi]) = self.raw_range() {
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return e("range", "finite [min, max] with min <= max".into(), format!("[{lo}, {hi}]"));
            }
        }
        match self {
            Preprocessing::None { .. } | Preprocessing::Text(_) => Ok(()),
            Preprocessing::Audio(audio) => audio.validate(),
            Preprocessing::Image(image) => image.validate(),
            Preprocessing::Affine { scale, offset, .. } => {
                if !(scale.is_finite() && offset.is_finite() && *scale != 0.0) {
                    return e(
                        "scale",
                        "a finite, non-zero scale and a finite offset".into(),
                        format!("scale {scale}, offset {offset}"),
                    );
                }
                Ok(())
            }
            Preprocessing::Standardize { mean, std, .. } => {
                if mean.len() != width || std.len() != width {
                    return e(
                        "mean",
                        format!("{width} means and {width} standard deviations (the row width)"),
                        format!("{} and {}", mean.len(), std.len()),
                    );
                }
                if let Some(i) = std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
                    return e(&format!("std[{i}]"), "a finite positive number".into(), std[i].to_string());
                }
                if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
                    return e(&format!("mean[{i}]"), "a finite number".into(), mean[i].to_string());
                }
                Ok(())
            }
        }
    }

    /// Checks a raw row and appends the model's input for it to `out`. `row` names the row in
    /// errors. On error nothing is appended.
    pub fn apply_row(&self, raw: &[f32], width: usize, row: RowName, out: &mut Vec<f32>) -> Result<()> {
        if let Preprocessing::Text(_) = self {
            return Err(Error::bad_input(
                format!("{row} is a row of numbers"),
                "text (this is a text model: predict(text), embed(texts))",
                "numbers",
            ));
        }
        if let Preprocessing::Audio(_) = self {
            return Err(Error::bad_input(
                format!("{row} is a row of numbers"),
                "audio (this is an audio model: session(), speechSegments(audio))",
                "a row",
            ));
        }
        if let Preprocessing::Image(_) = self {
            return Err(Error::bad_input(
                format!("{row} is a row of numbers"),
                "an image (this is an image model: predict(image), detect(image))",
                "a row",
            ));
        }
        if raw.len() != width {
            return Err(Error::bad_input(
                format!("{row} has the wrong length"),
                format!("{width} raw features"),
                format!("{} values", raw.len()),
            ));
        }
        check_values(raw, self.raw_range(), row)?;
        match self {
            Preprocessing::None { .. } | Preprocessing::Text(_) | Preprocessing::Audio(_) | Preprocessing::Image(_) => {
                out.extend_from_slice(raw)
            }
            Preprocessing::Affine { scale, offset, .. } => out.extend(raw.iter().map(|x| x * scale + offset)),
            Preprocessing::Standardize { mean, std, .. } => {
                out.extend(raw.iter().zip(mean).zip(std).map(|((x, m), s)| (x - m) / s))
            }
        }
        Ok(())
    }
}

/// Every value must be finite and, when the manifest gives a raw range, inside it.
fn check_values(raw: &[f32], range: Option<[f32; 2]>, row: RowName) -> Result<()> {
    if let Some(i) = raw.iter().position(|x| !x.is_finite()) {
        return Err(Error::bad_input(
            format!("{row}[{i}] is not a finite number"),
            "finite numbers".to_owned(),
            raw[i].to_string(),
        ));
    }
    if let Some([lo, hi]) = range {
        if let Some(i) = raw.iter().position(|x| *x < lo || *x > hi) {
            return Err(Error::bad_input(
                format!("{row}[{i}] is outside the raw range of the model's features"),
                format!("values from {lo} to {hi}"),
                raw[i].to_string(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_scales_and_checks() -> Result<()> {
        let p = Preprocessing::Affine { scale: 0.5, offset: 1.0, range: Some([0.0, 16.0]) };
        let mut out = vec![];
        p.apply_row(&[0.0, 2.0, 16.0], 3, RowName::Input, &mut out)?;
        assert_eq!(out, vec![1.0, 2.0, 9.0]);
        out.clear();
        let e = p.apply_row(&[0.0, 17.0, 1.0], 3, RowName::Input, &mut out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "input[1] is outside the raw range of the model's features: expected values from 0 to 16, got 17"
        );
        let e = p.apply_row(&[0.0, f32::NAN, 1.0], 3, RowName::Row(4), &mut out).unwrap_err();
        assert_eq!(e.to_string(), "rows[4][1] is not a finite number: expected finite numbers, got NaN");
        let e = p.apply_row(&[0.0], 3, RowName::Input, &mut out).unwrap_err();
        assert_eq!(e.to_string(), "input has the wrong length: expected 3 raw features, got 1 values");
        Ok(())
    }

    #[test]
    fn standardize_per_feature() -> Result<()> {
        let p = Preprocessing::Standardize { mean: vec![1.0, 2.0], std: vec![2.0, 4.0], range: None };
        assert!(p.validate(2).is_ok());
        assert!(p.validate(3).is_err());
        let mut out = vec![];
        p.apply_row(&[3.0, 10.0], 2, RowName::Input, &mut out)?;
        assert_eq!(out, vec![1.0, 2.0]);
        let bad = Preprocessing::Standardize { mean: vec![0.0], std: vec![0.0], range: None };
        assert_eq!(bad.validate(1).unwrap_err().0, "std[0]");
        Ok(())
    }
}
