//! Shared by the native tests of the OCR package (tests/ocr.rs, tests/lean_ocr.rs): the package
//! `make models-ocr` makes (in target/models-ocr, or the directory in EDGESERVE_OCR_MODELS), its
//! test images and RapidOCR's results on them.

use std::path::PathBuf;
use std::sync::OnceLock;

use edgeserve::image::Pixels;
use edgeserve::LoadedModel;
use serde_json::Value;

use super::root;

/// How far a corner of a line may be from RapidOCR's, in image pixels, end to end (the detector
/// runs on edgeserve's resize of the image: its map differs in the last bits).
pub const CORNER_TOLERANCE: f64 = 3.0;

pub fn dir() -> PathBuf {
    let base =
        std::env::var("EDGESERVE_OCR_MODELS").map(PathBuf::from).unwrap_or_else(|_| root().join("target/models-ocr"));
    assert!(
        base.join("ocr/manifest.json").is_file(),
        "{} has no ocr package: run `make models-ocr` first",
        base.display()
    );
    base
}

pub fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| serde_json::from_slice(&std::fs::read(dir().join("golden.json")).unwrap()).unwrap())
}

pub fn images() -> &'static [Value] {
    golden()["images"].as_array().unwrap()
}

pub fn quad(v: &Value) -> [[f64; 2]; 4] {
    let p: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    [[p[0][0], p[0][1]], [p[1][0], p[1][1]], [p[2][0], p[2][1]], [p[3][0], p[3][1]]]
}

pub fn farthest(a: &[[f64; 2]; 4], b: &[[f64; 2]; 4]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p[0] - q[0]).abs().max((p[1] - q[1]).abs())).fold(0.0, f64::max)
}

/// Levenshtein distance, in characters.
pub fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut diagonal = row[0];
        row[0] = i;
        for j in 1..=b.len() {
            let above = row[j];
            row[j] = (row[j] + 1).min(row[j - 1] + 1).min(diagonal + usize::from(a[i - 1] != b[j - 1]));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Reads every test image with `model` and compares its lines with RapidOCR's (texts, and
/// corners within [`CORNER_TOLERANCE`]): at least 90% the same, character accuracy against the
/// rendered texts over 90% (printed, with each image's timings).
pub fn check_reading(model: &mut LoadedModel) {
    let (mut same, mut total, mut close) = (0, 0, 0);
    let (mut errors, mut characters) = (0, 0);
    for image in images() {
        let name = image["name"].as_str().unwrap();
        let (w, h) = (image["width"].as_u64().unwrap() as u32, image["height"].as_u64().unwrap() as u32);
        let rgb = std::fs::read(dir().join("images").join(format!("{name}.rgb"))).unwrap();
        let reading = model.read_text(&Pixels::new(&rgb, w, h, 3).unwrap()).unwrap();
        let expected = image["reference"]["lines"].as_array().unwrap();
        for e in expected {
            total += 1;
            let want = e["text"].as_str().unwrap();
            let corners = quad(&e["box"]);
            let Some(found) = reading
                .lines
                .iter()
                .min_by(|a, b| farthest(&a.corners, &corners).total_cmp(&farthest(&b.corners, &corners)))
            else {
                eprintln!("{name}: RapidOCR's {want:?} not found");
                continue;
            };
            let off = farthest(&found.corners, &corners);
            if off <= CORNER_TOLERANCE {
                close += 1;
            }
            if found.text == want {
                same += 1;
            } else {
                eprintln!("{name}: {:?} (corners {off} px off), RapidOCR {want:?}", found.text);
            }
        }
        assert!(
            reading.lines.len() <= expected.len() + 1,
            "{name}: {} lines, RapidOCR {}",
            reading.lines.len(),
            expected.len()
        );
        // Character accuracy against the texts rendered: each rendered line against the line
        // read nearest to it (RapidOCR's and edgeserve's alike drop some spaces).
        if let Some(truth) = image["truth"].as_array() {
            for t in truth {
                let text = t["text"].as_str().unwrap();
                let corners = quad(&t["box"]);
                let centre = |q: &[[f64; 2]; 4]| {
                    [q.iter().map(|p| p[0]).sum::<f64>() / 4.0, q.iter().map(|p| p[1]).sum::<f64>() / 4.0]
                };
                let c = centre(&corners);
                let read = reading
                    .lines
                    .iter()
                    .filter(|l| {
                        let d = centre(&l.corners);
                        (d[1] - c[1]).abs() < 12.0
                    })
                    .min_by(|a, b| {
                        (centre(&a.corners)[0] - c[0]).abs().total_cmp(&(centre(&b.corners)[0] - c[0]).abs())
                    })
                    .map(|l| l.text.clone())
                    .unwrap_or_default();
                errors += edits(&read, text);
                characters += text.chars().count();
            }
        }
        eprintln!("{name}: {:?} ms {:?}", reading.latency_ms, reading.timings);
    }
    let accuracy = 1.0 - errors as f64 / characters as f64;
    eprintln!(
        "end to end: {same} of {total} lines as RapidOCR reads them, {close} with every corner within {CORNER_TOLERANCE} px; character accuracy against the rendered texts {:.2}% ({errors} edits in {characters} characters)",
        accuracy * 100.0
    );
    assert!(same * 10 >= total * 9, "{same} of {total} lines as RapidOCR reads them");
    assert!(close * 10 >= total * 9, "{close} of {total} lines with their corners within {CORNER_TOLERANCE} px");
    assert!(accuracy > 0.9, "character accuracy {accuracy}");
}
