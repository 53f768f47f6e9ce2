//! A model package: the graph's bytes (ONNX, tract's NNEF form, or edgeserve's rows form) and the manifest, with the
//! sha256 checked; and the registry of the packages embedded in the binary at build time (see
//! `build.rs`).

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::manifest::Manifest;

/// The form of a package's graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `model.onnx`, checked against the manifest's `sha256`.
    Onnx,
    /// `model.nnef.tar` (tract's typed graph, see `make models-nnef`), checked against the
    /// manifest's `nnef.sha256`.
    Nnef,
    /// `model.rows` (the graph as edgeserve's row program, see `make models-nnef`), checked
    /// against the manifest's `rows.sha256`.
    Rows,
}

/// The form of the embedded packages in this build: ONNX with the `onnx` feature (the full
/// build); in a lean build (no ONNX parser), NNEF with the `tract` feature, else the rows form.
pub const EMBEDDED_FORM: Form = if cfg!(feature = "onnx") {
    Form::Onnx
} else if cfg!(feature = "tract") {
    Form::Nnef
} else {
    Form::Rows
};

/// A model package whose manifest is valid and whose bytes match the manifest's sha256.
/// Whether the manifest matches the graph is checked when the engine loads it.
#[derive(Debug, Clone)]
pub struct Package {
    manifest: Manifest,
    form: Form,
    /// The graph's bytes, until the model loads them (see [`Package::take_graph`]).
    bytes: Cow<'static, [u8]>,
    /// The size of the graph's bytes, in bytes.
    size: usize,
    /// `tokenizer.json` of a text package, checked against the manifest's hash.
    tokenizer: Option<Cow<'static, [u8]>>,
    /// The other files the manifest names beside the graph (an OCR package's classifier and
    /// recogniser), each checked against its sha256.
    files: Vec<(String, Cow<'static, [u8]>)>,
}

impl Package {
    /// Builds a package from its parts: the manifest's JSON text and the `model.onnx` bytes.
    pub fn from_parts(manifest_json: &str, onnx: impl Into<Cow<'static, [u8]>>) -> Result<Package> {
        let manifest = Manifest::from_json(manifest_json)?;
        Package::new(manifest, onnx)
    }

    /// Builds a package from a parsed manifest and the `model.onnx` bytes.
    pub fn new(manifest: Manifest, onnx: impl Into<Cow<'static, [u8]>>) -> Result<Package> {
        Package::with_form(manifest, Form::Onnx, onnx)
    }

    /// Builds a package from a parsed manifest and its graph in the given form; the bytes must
    /// match the manifest's `sha256` (ONNX), `nnef.sha256` (NNEF) or `rows.sha256` (rows).
    pub fn with_form(manifest: Manifest, form: Form, bytes: impl Into<Cow<'static, [u8]>>) -> Result<Package> {
        let bytes = bytes.into();
        let found = sha256_hex(&bytes);
        Package::hashed(manifest, form, bytes, found)
    }

    /// [`Package::with_form`] for bytes whose sha256 (hex) the caller has computed: `found`
    /// must be the hash of `bytes` (in wasm, WebCrypto's, which runs natively: hashing a 46 MB
    /// model in wasm took a second).
    pub(crate) fn hashed(
        manifest: Manifest,
        form: Form,
        bytes: impl Into<Cow<'static, [u8]>>,
        found: String,
    ) -> Result<Package> {
        let bytes = bytes.into();
        let expected = expected_sha256(&manifest, form)?;
        if found != expected {
            return Err(Error::Integrity { model: manifest.name.clone(), expected, found });
        }
        Ok(Package { manifest, form, size: bytes.len(), bytes, tokenizer: None, files: vec![] })
    }

    /// A package whose graph, of `size` bytes hashing to `found`, is loaded apart from it (or
    /// was already): its bytes are not kept.
    #[cfg_attr(not(feature = "onnx"), allow(dead_code))]
    pub(crate) fn loaded(manifest: Manifest, form: Form, size: usize, found: String) -> Result<Package> {
        let mut package = Package::hashed(manifest, form, Vec::new(), found)?;
        package.size = size;
        Ok(package)
    }

    /// Adds the package's `tokenizer.json` (a text package's manifest names it, with its
    /// sha256): `INTEGRITY` when the bytes do not hash to it, `BAD_MANIFEST` when the manifest
    /// has no text preprocessing.
    pub fn with_tokenizer(mut self, bytes: impl Into<Cow<'static, [u8]>>) -> Result<Package> {
        let bytes = bytes.into();
        let crate::preprocess::Preprocessing::Text(text) = &self.manifest.preprocessing else {
            return Err(Error::manifest(
                &self.manifest.name,
                "preprocessing.type",
                "\"text\" (a tokenizer was given)",
                self.manifest.preprocessing.kind(),
            ));
        };
        let found = sha256_hex(&bytes);
        if found != text.tokenizer.sha256 {
            return Err(Error::Integrity {
                model: format!("{} (tokenizer.json)", self.manifest.name),
                expected: text.tokenizer.sha256.clone(),
                found,
            });
        }
        self.tokenizer = Some(bytes);
        Ok(self)
    }

    /// The package's `tokenizer.json`, for a text package.
    pub fn tokenizer(&self) -> Option<&[u8]> {
        self.tokenizer.as_deref()
    }

    /// Adds a file the manifest names beside the graph (an OCR package's classifier or
    /// recogniser, see [`Manifest::files`]): `INTEGRITY` when the bytes do not hash to its
    /// sha256, `BAD_MANIFEST` when the manifest names no such file.
    pub fn with_file(self, name: &str, bytes: impl Into<Cow<'static, [u8]>>) -> Result<Package> {
        let bytes = bytes.into();
        let found = sha256_hex(&bytes);
        self.with_hashed_file(name, bytes, Some(found))
    }

    /// [`Package::with_file`] with the bytes' sha256 (hex) when the caller has it; None for an
    /// embedded file, which build.rs checked when it compiled it in.
    fn with_hashed_file(mut self, name: &str, bytes: Cow<'static, [u8]>, found: Option<String>) -> Result<Package> {
        let files = self.manifest.files(self.form);
        let Some((_, expected)) = files.iter().find(|(file, _)| file == name).cloned() else {
            let named: Vec<&String> = files.iter().map(|(file, _)| file).collect();
            return Err(Error::manifest(
                &self.manifest.name,
                "ocr",
                format!("a file named {name:?} beside the graph (the package was given it)"),
                format!("the files {named:?}"),
            ));
        };
        if let Some(found) = found.filter(|found| *found != expected) {
            return Err(Error::Integrity { model: format!("{} ({name})", self.manifest.name), expected, found });
        }
        self.files.retain(|(file, _)| file != name);
        self.files.push((name.to_owned(), bytes));
        Ok(self)
    }

    /// A file of the package beside the graph, by name (see [`Package::with_file`]).
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files.iter().find(|(file, _)| file == name).map(|(_, bytes)| bytes.as_ref())
    }

    /// An embedded package: build.rs checked its bytes against the manifest's hash when it
    /// compiled them in, so they are not hashed again at each load (in wasm, hashing
    /// digits-accurate's 200 kB was a fifth of its first load).
    fn embedded(manifest: Manifest, bytes: &'static [u8]) -> Result<Package> {
        expected_sha256(&manifest, EMBEDDED_FORM)?;
        Ok(Package {
            manifest,
            form: EMBEDDED_FORM,
            bytes: Cow::Borrowed(bytes),
            size: bytes.len(),
            tokenizer: None,
            files: vec![],
        })
    }

    /// The package's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The form of the graph's bytes.
    pub fn form(&self) -> Form {
        self.form
    }

    /// The graph's bytes: `model.onnx`, `model.nnef.tar` or `model.rows` (see [`Package::form`]);
    /// empty once taken.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the graph's bytes out of the package, for the engine to load (and drop as soon as
    /// it has read them: a model's bytes are not kept beside its plans).
    pub fn take_graph(&mut self) -> Cow<'static, [u8]> {
        std::mem::take(&mut self.bytes)
    }

    /// Drops the files beside the graph (tokenizer, OCR stages) once the model has loaded them.
    pub fn release_files(&mut self) {
        self.tokenizer = None;
        self.files.clear();
    }

    /// The size of the graph's bytes, taken or not.
    pub fn size(&self) -> usize {
        self.size
    }
}

/// The sha256 the manifest gives for the graph in `form`.
fn expected_sha256(manifest: &Manifest, form: Form) -> Result<String> {
    match form {
        Form::Onnx => Ok(manifest.sha256.clone()),
        Form::Nnef => match &manifest.nnef {
            Some(nnef) => Ok(nnef.sha256.clone()),
            None => Err(Error::manifest(
                &manifest.name,
                "nnef",
                "the sha256 of the package's NNEF form, model.nnef.tar (`make models-nnef` writes both)",
                "no `nnef` field",
            )),
        },
        Form::Rows => match &manifest.rows {
            Some(rows) => Ok(rows.sha256.clone()),
            None => Err(Error::manifest(
                &manifest.name,
                "rows",
                "the sha256 of the package's rows form, model.rows (`make models-nnef` writes both, for graphs the row executor covers)",
                "no `rows` field",
            )),
        },
    }
}

/// A graph's bytes as a loader is given them: in this memory, or outside it and read in pieces
/// (in wasm, a JavaScript `Uint8Array`: a model's file then never takes room in the wasm memory,
/// which grows to the most it held at once and never shrinks; the decoded graph alone is made in
/// it). Dropped as soon as the graph is decoded.
pub enum GraphBytes<'a> {
    /// The bytes, borrowed or owned.
    Here(Cow<'a, [u8]>),
    /// Bytes read on demand, in pieces of [`GraphBytes::PIECE`].
    Outside(Box<dyn ReadAt + 'a>),
}

/// Bytes outside this memory that can be copied in by range (see [`GraphBytes::Outside`]).
pub trait ReadAt {
    /// How many bytes there are.
    fn size(&self) -> usize;
    /// Copies the bytes from `offset` into all of `into`; the caller keeps
    /// `offset + into.len() <= self.size()`.
    fn read_at(&self, offset: usize, into: &mut [u8]);
}

impl<'a> GraphBytes<'a> {
    /// The size of the pieces bytes outside are read in: 64 KiB.
    pub const PIECE: usize = 64 << 10;

    /// How many bytes there are.
    pub fn len(&self) -> usize {
        match self {
            GraphBytes::Here(b) => b.len(),
            GraphBytes::Outside(r) => r.size(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Their sha256, in lowercase hex (bytes outside are hashed piece by piece).
    pub fn sha256_hex(&self) -> String {
        match self {
            GraphBytes::Here(b) => sha256_hex(b),
            GraphBytes::Outside(r) => {
                let mut hasher = Sha256::new();
                let mut piece = vec![0; Self::PIECE.min(r.size())];
                let mut at = 0;
                while at < r.size() {
                    let n = piece.len().min(r.size() - at);
                    r.read_at(at, &mut piece[..n]);
                    hasher.update(&piece[..n]);
                    at += n;
                }
                hex(&hasher.finalize())
            }
        }
    }

    /// The bytes in this memory (those outside copied in).
    pub fn into_here(self) -> Cow<'a, [u8]> {
        match self {
            GraphBytes::Here(b) => b,
            GraphBytes::Outside(r) => {
                let mut all = vec![0; r.size()];
                r.read_at(0, &mut all);
                Cow::Owned(all)
            }
        }
    }
}

impl std::fmt::Debug for GraphBytes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = if matches!(self, GraphBytes::Here(_)) { "here" } else { "outside" };
        write!(f, "GraphBytes({} bytes {place})", self.len())
    }
}

impl<'a> From<Cow<'a, [u8]>> for GraphBytes<'a> {
    fn from(bytes: Cow<'a, [u8]>) -> Self {
        GraphBytes::Here(bytes)
    }
}

impl<'a> From<&'a [u8]> for GraphBytes<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        GraphBytes::Here(Cow::Borrowed(bytes))
    }
}

impl From<Vec<u8>> for GraphBytes<'_> {
    fn from(bytes: Vec<u8>) -> Self {
        GraphBytes::Here(Cow::Owned(bytes))
    }
}

/// Lowercase hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A digest in lowercase hex, as manifests write sha256.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A package as the build script embedded it: its directory name, its manifest and its graph
/// (`model.onnx` in the full build, `model.nnef.tar` or `model.rows` in a lean one:
/// [`EMBEDDED_FORM`]).
#[derive(Debug)]
pub struct EmbeddedPackage {
    pub dir: &'static str,
    pub manifest: &'static str,
    pub graph: &'static [u8],
    /// The `tokenizer.json` of a text package.
    pub tokenizer: Option<&'static [u8]>,
    /// The files its manifest names beside the graph, in the build's form (an OCR package's
    /// stages: `classifier.onnx`, or `classifier.nnef.tar` in the lean build), by name; build.rs
    /// checked each against its sha256.
    pub files: &'static [(&'static str, &'static [u8])],
}

/// A package shipped beside the wasm (the npm package's `models/<dir>/`), whose files are
/// fetched when it is loaded: its directory name and its manifest, which holds the sha256 of
/// each file (build.rs checked them against the files it was built with).
#[derive(Debug)]
pub struct FetchedPackage {
    pub dir: &'static str,
    pub manifest: &'static str,
}

impl FetchedPackage {
    /// The files to fetch, as (file name, sha256): `model.onnx`, then the tokenizer of a text
    /// package, then the other graphs of an OCR package.
    pub fn files(&self) -> Result<Vec<(String, String)>> {
        let manifest = Manifest::from_json(self.manifest)?;
        let mut files = vec![("model.onnx".to_owned(), manifest.sha256.clone())];
        if let crate::preprocess::Preprocessing::Text(text) = &manifest.preprocessing {
            files.push((text.tokenizer.file.clone(), text.tokenizer.sha256.clone()));
        }
        files.extend(manifest.files(Form::Onnx));
        Ok(files)
    }
}

mod generated {
    use super::{EmbeddedPackage, FetchedPackage};
    include!(concat!(env!("OUT_DIR"), "/embedded_models.rs"));
    include!(concat!(env!("OUT_DIR"), "/fetched_models.rs"));
}

/// The packages embedded at build time, sorted by directory name.
pub fn embedded() -> &'static [EmbeddedPackage] {
    generated::EMBEDDED
}

/// The packages shipped beside the wasm and fetched on demand, sorted by directory name.
pub fn fetched() -> &'static [FetchedPackage] {
    generated::FETCHED
}

/// The packages of this build, looked up by name: embedded ones, and those shipped beside the
/// wasm.
pub struct Registry;

impl Registry {
    /// Names of every package of this build (embedded or fetched on demand), sorted.
    pub fn names() -> Vec<String> {
        let mut names: Vec<String> = Registry::embedded_names();
        names.extend(fetched().iter().map(|p| p.dir.to_owned()));
        names.sort();
        names
    }

    /// Names of the embedded packages, sorted.
    pub fn embedded_names() -> Vec<String> {
        embedded().iter().map(|p| p.dir.to_owned()).collect()
    }

    /// The package `name` when it is shipped beside the wasm (fetched on demand).
    pub fn fetched(name: &str) -> Option<&'static FetchedPackage> {
        fetched().iter().find(|p| p.dir == name)
    }

    /// Loads the embedded package `name`: parses its manifest (build.rs checked its sha256).
    /// A package fetched on demand is a `REGISTRY` error here (its files are not in the build).
    pub fn get(name: &str) -> Result<Package> {
        if Registry::fetched(name).is_some() {
            return Err(Error::Registry {
                expected: format!("an embedded package named {name:?}"),
                found: "a package shipped beside the wasm, whose files `await Model.load(name)` fetches".into(),
            });
        }
        let found = embedded().iter().find(|p| p.dir == name).ok_or_else(|| Error::UnknownModel {
            name: name.to_owned(),
            available: format!("{:?}", Registry::names()),
        })?;
        let mut package = Package::embedded(Manifest::from_json(found.manifest)?, found.graph)?;
        if let Some(tokenizer) = found.tokenizer {
            package = package.with_tokenizer(tokenizer)?;
        }
        for (name, bytes) in found.files {
            package = package.with_hashed_file(name, Cow::Borrowed(*bytes), None)?;
        }
        if package.manifest().name != found.dir {
            return Err(Error::manifest(
                &package.manifest().name,
                "name",
                format!("{:?} (the package's directory)", found.dir),
                format!("{:?}", package.manifest().name),
            ));
        }
        Ok(package)
    }

    /// The name of the one package whose manifest says `"default": true`.
    pub fn default_name() -> Result<String> {
        let mut defaults = vec![];
        for p in embedded() {
            if Manifest::from_json(p.manifest)?.default {
                defaults.push(p.dir);
            }
        }
        match defaults.as_slice() {
            [one] => Ok((*one).to_owned()),
            _ => Err(Error::Registry {
                expected: "exactly one embedded package with \"default\": true".into(),
                found: format!("{} ({defaults:?})", defaults.len()),
            }),
        }
    }
}
