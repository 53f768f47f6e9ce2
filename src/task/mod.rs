//! Tasks: how a model's outputs become what a caller asked for, one module per task.
//! (Classification and regression of rows are decoded in `model.rs`.)

pub mod detection;
pub mod embedding;
pub mod ocr;
pub mod voice_activity;
