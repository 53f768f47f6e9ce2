#!/usr/bin/env bash
# Builds the wasm32 library in release and writes an npm package of it into OUT: what `wasm-pack
# build --release --target web --out-name edgeserve` does, without installing wasm-pack (its
# cargo install was minutes of every fresh make test). cargo builds the library; wasm-bindgen (the
# CLI that scripts/setup.sh installs at Cargo.toml's pin) writes edgeserve.js, edgeserve.d.ts and
# edgeserve_bg.wasm; package.json is made from Cargo.toml's fields, as wasm-pack makes it, and
# the README and LICENSE are copied in. wasm-opt is not run (the Makefile runs binaryen's).
#
# Usage: scripts/wasm-build.sh OUT [cargo build arguments: --features ..., --no-default-features]
# CARGO_TARGET_DIR and CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS are honoured (the relaxed
# build's own target directory and flags); QUIET=1 keeps cargo quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/wasm-build.sh OUT [cargo build arguments]}"
shift
quiet=()
[ "${QUIET:-}" = 1 ] && quiet=(--quiet)
cargo build "${quiet[@]}" --lib --release --target wasm32-unknown-unknown "$@"
wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/edgeserve.wasm"
mkdir -p "$out"
wasm-bindgen "$wasm" --out-dir "$out" --out-name edgeserve --target web --typescript
cp README.md LICENSE "$out/"
node --input-type=module - "$out" <<'JS'
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const out = process.argv[2];
const toml = readFileSync('Cargo.toml', 'utf8');
const field = key => toml.match(new RegExp(`^${key} = "([^"]*)"`, 'm'))?.[1];
const files = ['edgeserve_bg.wasm', 'edgeserve.js', 'edgeserve.d.ts'];
if (existsSync(`${out}/snippets`)) files.push('snippets');
const manifest = {
  name: field('name'),
  type: 'module',
  description: field('description'),
  version: field('version'),
  license: field('license'),
  files,
  main: 'edgeserve.js',
  types: 'edgeserve.d.ts',
  sideEffects: ['./snippets/*'],
};
writeFileSync(`${out}/package.json`, `${JSON.stringify(manifest, null, 2)}\n`);
JS
