//! The one error type of the core. Every message says what was wrong, what was expected and
//! what came, so that a JavaScript caller can act on `err.message` alone; `code()` gives a
//! stable machine-readable kind (it becomes `err.code` in JavaScript).

use thiserror::Error;

/// Everything that can go wrong in edgeserve's core.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// A model name that no package has.
    #[error("unknown model '{name}': expected one of {available}, got '{name}'")]
    UnknownModel { name: String, available: String },

    /// The caller's input has the wrong kind, length or values.
    #[error("{what}: expected {expected}, got {got}")]
    BadInput { what: String, expected: String, got: String },

    /// A manifest that does not parse, or whose fields are wrong or disagree with the graph.
    #[error("manifest of '{model}', field `{field}`: expected {expected}, found {found}")]
    Manifest { model: String, field: String, expected: String, found: String },

    /// The model bytes do not hash to the manifest's sha256.
    #[error("integrity check failed for '{model}': expected the sha256 in the manifest, {expected}, found {found} (the hash of the model bytes)")]
    Integrity { model: String, expected: String, found: String },

    /// tract could not parse, type or optimize the ONNX graph.
    #[error("model '{model}' could not be loaded: {detail}")]
    ModelLoad { model: String, detail: String },

    /// The model ran but failed, or produced outputs of an unexpected form.
    #[error("inference with '{model}' failed: {detail}")]
    Inference { model: String, detail: String },

    /// The set of embedded packages is inconsistent (e.g. no default package).
    #[error("package registry: expected {expected}, found {found}")]
    Registry { expected: String, found: String },

    /// A thread pool that could not be started (see [`crate::threads`]).
    #[error(transparent)]
    Threads(#[from] crate::threads::ThreadsError),
}

impl Error {
    /// A stable identifier of the error's kind, exposed to JavaScript as `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownModel { .. } => "UNKNOWN_MODEL",
            Error::BadInput { .. } => "BAD_INPUT",
            Error::Manifest { .. } => "BAD_MANIFEST",
            Error::Integrity { .. } => "INTEGRITY",
            Error::ModelLoad { .. } => "MODEL_LOAD",
            Error::Inference { .. } => "INFERENCE",
            Error::Registry { .. } => "REGISTRY",
            Error::Threads(_) => "THREADS",
        }
    }

    /// Shorthand for a [`Error::BadInput`].
    pub fn bad_input(what: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Error::BadInput { what: what.into(), expected: expected.into(), got: got.into() }
    }

    /// A `BAD_INPUT` error about one item of a list or a stream, its `what` prefixed with the
    /// item's name (`rows[3]: ...`); any other error as it is.
    pub fn named(self, name: &str) -> Self {
        match self {
            Error::BadInput { what, expected, got } => {
                Error::BadInput { what: format!("{name}: {what}"), expected, got }
            }
            other => other,
        }
    }

    /// Shorthand for a [`Error::Manifest`].
    pub fn manifest(
        model: impl Into<String>,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::Manifest { model: model.into(), field: field.into(), expected: expected.into(), found: found.into() }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
