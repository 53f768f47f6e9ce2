//! The detection task: a detector's output to boxes in the caller's image. The candidates of the
//! head layout the manifest names (YOLOv5's or YOLOv8's) are scored, those under the score
//! threshold dropped, overlapping boxes of one class reduced to the best by non-maximum
//! suppression, and the rest mapped from the tensor's pixels to the image's through the
//! [`Placement`] of its preprocessing. Any model whose output has one of these layouts works.

use serde::{Deserialize, Serialize};

use crate::image::Placement;

/// The manifest's `detection` settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetectionSettings {
    /// The layout of the output with role `detections`.
    pub head: Head,
    /// Candidates scoring below this are dropped (default 0.25).
    #[serde(default = "score_threshold")]
    pub score_threshold: f32,
    /// A box overlapping a better one of its class by more than this intersection over union is
    /// dropped (default 0.45).
    #[serde(default = "iou_threshold")]
    pub iou_threshold: f32,
    /// The most boxes returned, best first (default 300).
    #[serde(default = "max_detections")]
    pub max_detections: usize,
    /// Boxes of different classes suppress each other too (default false).
    #[serde(default)]
    pub class_agnostic: bool,
}

fn score_threshold() -> f32 {
    0.25
}

fn iou_threshold() -> f32 {
    0.45
}

fn max_detections() -> usize {
    300
}

/// The layout of a detector's output, one candidate per anchor, boxes as centre x, centre y,
/// width and height in the tensor's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Head {
    /// `[1, anchors, 5 + classes]`: the box, an objectness, then a probability per class; a
    /// candidate's score is its objectness times its best class's probability.
    Yolov5,
    /// `[1, 4 + classes, anchors]`: the box then a score per class, anchor by anchor in columns.
    Yolov8,
}

impl Head {
    /// (anchors, classes) of an output of this shape, or why it does not fit.
    pub fn dimensions(self, shape: &[usize]) -> Result<(usize, usize), String> {
        let fits = |extra: usize, along: usize| shape.len() == 3 && shape[0] == 1 && shape[along] > extra;
        match self {
            Head::Yolov5 if fits(5, 2) => Ok((shape[1], shape[2] - 5)),
            Head::Yolov8 if fits(4, 1) => Ok((shape[2], shape[1] - 4)),
            Head::Yolov5 => {
                Err(format!("the detections output has shape {shape:?}, not YOLOv5's [1, anchors, 5 + classes]"))
            }
            Head::Yolov8 => {
                Err(format!("the detections output has shape {shape:?}, not YOLOv8's [1, 4 + classes, anchors]"))
            }
        }
    }

    /// The number of values per candidate besides the class scores.
    pub fn extra(self) -> usize {
        match self {
            Head::Yolov5 => 5,
            Head::Yolov8 => 4,
        }
    }
}

/// A box found in the image: `x`, `y` its top left corner, in the caller's image pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// The class, an index into the manifest's labels.
    pub index: usize,
    pub score: f32,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl DetectionSettings {
    /// Checks the fields on their own, as (field, expected, found).
    pub fn validate(&self) -> Result<(), (String, String, String)> {
        let e = |f: &str, x: &str, g: String| Err((f.to_owned(), x.to_owned(), g));
        if !(0.0..=1.0).contains(&self.score_threshold) {
            return e("detection.scoreThreshold", "a number from 0 to 1", self.score_threshold.to_string());
        }
        if !(0.0..=1.0).contains(&self.iou_threshold) {
            return e("detection.iouThreshold", "a number from 0 to 1", self.iou_threshold.to_string());
        }
        if self.max_detections == 0 {
            return e("detection.maxDetections", "at least 1", "0".into());
        }
        Ok(())
    }
}

/// A candidate in the tensor's pixels, corners `(x1, y1)` to `(x2, y2)`.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    index: usize,
    score: f32,
    corners: [f32; 4],
}

/// Decodes a detector's output `data` of shape `shape` into the boxes of the image that
/// `placement` maps back to, best first. An error says how the output does not fit the head.
pub fn decode(
    settings: &DetectionSettings,
    data: &[f32],
    shape: &[usize],
    placement: &Placement,
) -> Result<Vec<Detection>, String> {
    let (anchors, classes) = settings.head.dimensions(shape)?;
    let per = settings.head.extra() + classes;
    if data.len() != anchors * per {
        return Err(format!("the detections output has {} values, not {anchors} x {per}", data.len()));
    }
    // Value `k` of anchor `a`.
    let at = |a: usize, k: usize| match settings.head {
        Head::Yolov5 => data[a * per + k],
        Head::Yolov8 => data[k * anchors + a],
    };
    let mut candidates = Vec::new();
    for a in 0..anchors {
        let objectness = match settings.head {
            Head::Yolov5 => {
                let o = at(a, 4);
                // YOLOv5's NMS drops a candidate whose objectness alone is under the threshold.
                if o.is_nan() || o <= settings.score_threshold {
                    continue;
                }
                o
            }
            Head::Yolov8 => 1.0,
        };
        let extra = settings.head.extra();
        let (mut index, mut best) = (0, f32::NEG_INFINITY);
        for c in 0..classes {
            let s = at(a, extra + c);
            if s > best {
                (index, best) = (c, s);
            }
        }
        let score = best * objectness;
        if score.is_nan() || score <= settings.score_threshold {
            continue;
        }
        let (cx, cy, w, h) = (at(a, 0), at(a, 1), at(a, 2), at(a, 3));
        if !(cx.is_finite() && cy.is_finite() && w.is_finite() && h.is_finite()) {
            continue;
        }
        candidates.push(Candidate { index, score, corners: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0] });
    }
    let kept = suppress(candidates, settings.iou_threshold, settings.class_agnostic, settings.max_detections);
    Ok(kept
        .into_iter()
        .map(|c| {
            let (x1, y1) = placement.to_image(c.corners[0] as f64, c.corners[1] as f64);
            let (x2, y2) = placement.to_image(c.corners[2] as f64, c.corners[3] as f64);
            Detection { index: c.index, score: c.score, x: x1, y: y1, width: x2 - x1, height: y2 - y1 }
        })
        .collect())
}

/// Greedy non-maximum suppression: best score first, each box dropped when it overlaps one kept
/// before it (of its class, unless class-agnostic) by more than `iou` (torchvision's `nms`; ties
/// in score keep the earlier anchor).
fn suppress(mut candidates: Vec<Candidate>, iou: f32, agnostic: bool, max: usize) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Candidate> = Vec::new();
    for c in candidates {
        if kept.len() == max {
            break;
        }
        let overlaps = kept
            .iter()
            .any(|k| (agnostic || k.index == c.index) && intersection_over_union(&k.corners, &c.corners) > iou);
        if !overlaps {
            kept.push(c);
        }
    }
    kept
}

/// The intersection over union of two boxes given by their corners (0 when both are empty).
fn intersection_over_union(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(width: u32, height: u32) -> Placement {
        Placement {
            scale_x: 1.0,
            scale_y: 1.0,
            offset_x: 0.0,
            offset_y: 0.0,
            image_width: width,
            image_height: height,
            tensor_width: width,
            tensor_height: height,
        }
    }

    fn settings(head: Head) -> DetectionSettings {
        DetectionSettings {
            head,
            score_threshold: 0.25,
            iou_threshold: 0.45,
            max_detections: 300,
            class_agnostic: false,
        }
    }

    #[test]
    fn yolov8_suppresses_overlaps_of_one_class_only() -> Result<(), String> {
        // Four anchors in columns: two overlapping boxes of class 0, the same place in class 1,
        // and one under the threshold.
        let rows: [[f32; 4]; 6] = [
            [50.0, 52.0, 50.0, 10.0], // cx
            [50.0, 50.0, 50.0, 10.0], // cy
            [20.0, 20.0, 20.0, 4.0],  // w
            [20.0, 20.0, 20.0, 4.0],  // h
            [0.9, 0.8, 0.1, 0.2],     // class 0
            [0.05, 0.1, 0.7, 0.1],    // class 1
        ];
        let data: Vec<f32> = rows.iter().flatten().copied().collect();
        let found = decode(&settings(Head::Yolov8), &data, &[1, 6, 4], &identity(100, 100))?;
        let summary: Vec<(usize, f32, f64)> = found.iter().map(|d| (d.index, d.score, d.x)).collect();
        assert_eq!(summary, vec![(0, 0.9, 40.0), (1, 0.7, 40.0)]);
        let agnostic = DetectionSettings { class_agnostic: true, ..settings(Head::Yolov8) };
        assert_eq!(decode(&agnostic, &data, &[1, 6, 4], &identity(100, 100))?.len(), 1);
        Ok(())
    }

    #[test]
    fn yolov5_multiplies_objectness_and_maps_back() -> Result<(), String> {
        // One anchor: a box at (320, 320) of 64 x 32 in a 640 x 640 letterbox of a 1280 x 720
        // image (scale 0.5, 140 rows of padding above).
        let data = [320.0, 320.0, 64.0, 32.0, 0.8, 0.5, 0.9];
        let placement = Placement {
            scale_x: 0.5,
            scale_y: 0.5,
            offset_y: 140.0,
            image_width: 1280,
            image_height: 720,
            tensor_width: 640,
            tensor_height: 640,
            ..identity(1280, 720)
        };
        let found = decode(&settings(Head::Yolov5), &data, &[1, 1, 7], &placement)?;
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.index, d.x, d.y, d.width, d.height), (1, 576.0, 328.0, 128.0, 64.0));
        assert!((d.score - 0.72).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn shapes_that_do_not_fit_are_refused() {
        assert!(decode(&settings(Head::Yolov8), &[0.0; 8], &[1, 4, 2], &identity(1, 1)).is_err());
        assert!(decode(&settings(Head::Yolov5), &[0.0; 6], &[1, 1, 7], &identity(1, 1)).is_err());
    }
}
