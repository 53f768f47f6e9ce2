//! edgeserve: serve machine-learning models inside the browser.
//!
//! A *model package* (an ONNX graph, its manifest and reference outputs) is compiled into this
//! crate's WebAssembly build, which wasm-bindgen turns into the `edgeserve` npm package (scripts/wasm-build.sh). The core
//! modules below are plain Rust with no wasm-bindgen import; [`wasm`] is the only boundary to
//! JavaScript, and it compiles natively too so that `cargo test` covers it.
//!
//! Data flow: [`package`] (bytes + [`manifest`], sha256 checked) -> [`engine`] (tract plans) ->
//! [`model`] (roles -> predictions, [`preprocess`]; text in [`text`], images in [`image`], audio in [`audio`] and [`session`]) -> [`serve`] (one module per serving mode,
//! timed by [`latency`]) -> [`wasm`] (the JS API).

pub mod audio;
pub mod engine;
pub mod error;
#[cfg(not(target_family = "wasm"))]
#[doc(hidden)]
pub mod fuzz;
pub mod image;
pub mod latency;
pub mod manifest;
pub mod model;
/// Making a package from an ONNX file (the command line's `pack`): needs the ONNX parser.
#[cfg(feature = "onnx")]
pub mod pack;
pub mod package;
pub mod preprocess;
pub mod serve;
pub mod session;
pub mod state;
pub mod task;
pub mod tensor;
pub mod text;
pub mod threads;
pub mod vision;
pub mod wasm;

pub use error::{Error, Result};
pub use manifest::Manifest;
pub use model::{LoadedModel, Prediction};
pub use package::{Package, Registry};
pub use serve::realtime::Timed;
