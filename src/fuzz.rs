//! Entry points of the fuzz targets (`fuzz/fuzz_targets/`, `make fuzz`) and of their regression
//! test (`tests/fuzz_regressions.rs`, which replays every saved input): each takes arbitrary
//! bytes and must return, never panic, whatever they hold. Errors are the expected outcome for
//! most inputs; only a panic (or a sanitizer report) is a finding. Native only.

use crate::manifest::Manifest;
use crate::model::LoadedModel;
use crate::serve::csv::{parse, LabelColumn};
use crate::wasm::Model;

/// Manifest parsing and validation: the bytes as manifest JSON text.
pub fn manifest(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Manifest::from_json(text);
    }
}

/// Package loading from bytes: the bytes as an ONNX file (manifest inferred from the graph), then
/// a run on zeros when it loads.
pub fn package(data: &[u8]) {
    if let Ok(mut model) = LoadedModel::from_bytes(data.to_vec(), None) {
        let inputs = model
            .manifest()
            .inputs
            .iter()
            .map(|i| {
                let shape: Vec<usize> = i
                    .shape
                    .iter()
                    .map(|d| if let crate::manifest::Dim::Fixed(n) = d { (*n as usize).min(8) } else { 1 })
                    .collect();
                let n = shape.iter().product();
                crate::tensor::NamedTensor {
                    name: i.name.clone(),
                    shape,
                    data: crate::tensor::TensorData::F32(vec![0.0; n]),
                }
            })
            .collect();
        let _ = model.run(inputs);
    }
}

/// The rows form's reader (`model.rows`, what a lean build without tract loads): the bytes as a
/// rows form, then a run of 3 rows of zeros when it loads. Its checks must refuse every program
/// that would index outside its buffers.
pub fn rows(data: &[u8]) {
    if let Ok(mut engine) = crate::engine::Engine::load_rows("fuzz", data) {
        let dims: Vec<usize> = engine
            .inputs()
            .iter()
            .flat_map(|i| &i.shape)
            .skip(1)
            .map(|d| if let crate::manifest::Dim::Fixed(n) = d { (*n as usize).min(64) } else { 1 })
            .collect();
        let shape: Vec<usize> = std::iter::once(3).chain(dims).collect();
        let Some(len) = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).filter(|&n| n <= 1 << 16) else {
            return;
        };
        let _ = engine.run(&vec![0.0; len], &shape);
    }
}

/// CSV decoding: byte 0 picks the row width (1..=80), byte 1 the label column (none, by index or
/// by the name `label`), the rest is the text.
pub fn csv(data: &[u8]) {
    let [w, l, text @ ..] = data else { return };
    let width = usize::from(*w % 80) + 1;
    let label = match l % 3 {
        0 => None,
        1 => Some(LabelColumn::Index(usize::from(*l / 3))),
        _ => Some(LabelColumn::Name("label".into())),
    };
    let _ = parse(&String::from_utf8_lossy(text), width, label.as_ref());
}

thread_local! {
    // Leaked on purpose: dropped at thread exit, the model's plan would reach into tract's own
    // thread-locals, which may already be gone.
    static MODEL: &'static std::cell::RefCell<Option<Model>> = Box::leak(Box::new(std::cell::RefCell::new(None)));
}

/// Input conversion at the JavaScript boundary (natively JSON stands in for JS values): the bytes
/// as JSON, given to predict(), predictBatch() (with the second item of an array as options) and,
/// as text, to predictCsv(), on the embedded default model (loaded once).
pub fn input(data: &[u8]) {
    MODEL.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Model::default_model().ok();
        }
        let Some(model) = slot.as_mut() else { return };
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
            let _ = model.predict(value.clone());
            let _ = model.predict_batch(value.clone(), None);
            if let Some([rows, options]) = value.as_array().map(Vec::as_slice).and_then(|a| <&[_; 2]>::try_from(a).ok())
            {
                let _ = model.predict_batch(rows.clone(), Some(options.clone()));
            }
        }
        let _ = model.predict_csv(&String::from_utf8_lossy(data), None);
    });
}
