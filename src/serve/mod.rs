//! The serving modes, one file each. Each adds methods or a driver to
//! [`crate::model::LoadedModel`]; every one records its latencies per mode.

pub mod batch;
pub mod choose;
pub mod csv;
pub mod jsonl;
pub mod realtime;
pub mod stream;
