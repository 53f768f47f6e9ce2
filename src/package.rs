//! A model package: the ONNX bytes and the manifest, with the sha256 checked; and the registry
//! of the packages embedded in the binary at build time (see `build.rs`).

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::manifest::Manifest;

/// A model package whose manifest is valid and whose bytes match the manifest's sha256.
/// Whether the manifest matches the graph is checked when the engine loads it.
#[derive(Debug, Clone)]
pub struct Package {
    manifest: Manifest,
    onnx: Cow<'static, [u8]>,
}

impl Package {
    /// Builds a package from its parts: the manifest's JSON text and the `model.onnx` bytes.
    pub fn from_parts(manifest_json: &str, onnx: impl Into<Cow<'static, [u8]>>) -> Result<Package> {
        let manifest = Manifest::from_json(manifest_json)?;
        Package::new(manifest, onnx)
    }

    /// Builds a package from a parsed manifest and the `model.onnx` bytes.
    pub fn new(manifest: Manifest, onnx: impl Into<Cow<'static, [u8]>>) -> Result<Package> {
        let onnx = onnx.into();
        let found = sha256_hex(&onnx);
        if found != manifest.sha256 {
            return Err(Error::Integrity { model: manifest.name.clone(), expected: manifest.sha256.clone(), found });
        }
        Ok(Package { manifest, onnx })
    }

    /// The package's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The bytes of `model.onnx`.
    pub fn onnx(&self) -> &[u8] {
        &self.onnx
    }
}

/// Lowercase hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A package as the build script embedded it: its directory name and its two files.
#[derive(Debug)]
pub struct EmbeddedPackage {
    pub dir: &'static str,
    pub manifest: &'static str,
    pub onnx: &'static [u8],
}

mod generated {
    use super::EmbeddedPackage;
    include!(concat!(env!("OUT_DIR"), "/embedded_models.rs"));
}

/// The packages embedded at build time, sorted by directory name.
pub fn embedded() -> &'static [EmbeddedPackage] {
    generated::EMBEDDED
}

/// The embedded packages, looked up by name.
pub struct Registry;

impl Registry {
    /// Names of the embedded packages, sorted.
    pub fn names() -> Vec<String> {
        embedded().iter().map(|p| p.dir.to_owned()).collect()
    }

    /// Loads the embedded package `name`: parses its manifest and checks its sha256.
    pub fn get(name: &str) -> Result<Package> {
        let found = embedded().iter().find(|p| p.dir == name).ok_or_else(|| Error::UnknownModel {
            name: name.to_owned(),
            available: format!("{:?}", Registry::names()),
        })?;
        let package = Package::from_parts(found.manifest, found.onnx)?;
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
