//! The serving modes, one file each. Each adds methods to [`crate::model::LoadedModel`].

pub mod realtime;
