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
#
# THREADS=1: the threaded build (the Makefile also gives +atomics,+bulk-memory,+mutable-globals in
# the flags and the `threads` feature). Rust's std must be compiled with atomics for it, which
# only nightly's build-std does (THREADS_TOOLCHAIN, with its rust-src: scripts/setup.sh installs
# both), and the module imports a shared memory of at most 4 GiB and exports the thread-local
# storage symbols that wasm-bindgen's thread support initialises on each Worker.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/wasm-build.sh OUT [cargo build arguments]}"
shift
quiet=()
[ "${QUIET:-}" = 1 ] && quiet=(--quiet)
if [ "${THREADS:-}" = 1 ]; then
  link=(--shared-memory --max-memory=4294967296 --import-memory
        --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)
  # `cargo rustc`: the linker arguments go to the final crate only. Under make test's clippy in
  # builds (RUSTC_WORKSPACE_WRAPPER, stable's clippy-driver), the nightly's own clippy-driver
  # lints it instead (scripts/setup.sh installs the component): the code only this build
  # compiles, src/wasm/threads.rs's pool, is linted too.
  toolchain="${THREADS_TOOLCHAIN:?set by the Makefile}"
  wrapper=()
  if [ -n "${RUSTC_WORKSPACE_WRAPPER:-}" ]; then
    wrapper=("RUSTC_WORKSPACE_WRAPPER=$(rustc "+$toolchain" --print sysroot)/bin/clippy-driver")
  fi
  env -u RUSTC_WORKSPACE_WRAPPER "${wrapper[@]}" cargo "+$toolchain" rustc "${quiet[@]}" --lib --release --target wasm32-unknown-unknown \
    -Z build-std=panic_abort,std "$@" -- "${link[@]/#/-Clink-arg=}"
else
  cargo build "${quiet[@]}" --lib --release --target wasm32-unknown-unknown "$@"
fi
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
