#!/usr/bin/env bash
# Installs what edgeserve needs to build and test, from the package registries only.
# Idempotent: every step is skipped when what it installs is already there at the right version.
# Versions are read from the Makefile's variables (passed in the environment).
set -euo pipefail

WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:?set by the Makefile (from the wasm-bindgen pin in Cargo.toml)}"
want="${1:-all}"   # all | rust | browser | fuzz

step() { printf '\n== setup: %s\n' "$*"; }

# cargo install with the crate's own lock file when it resolves here, else with fresh resolution
# (a yanked crate in a published lock file makes --locked fail). Without make test's clippy-driver
# (CLIPPY_IN_BUILDS): the tools are not edgeserve's code to lint.
cargo_install() {
  unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
  cargo install --locked --force "$@" || cargo install --force "$@"
}

rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  # make lint: rustfmt and clippy (a minimal rustup profile has neither).
  local component
  for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
      step "rustup component add $component"
      rustup component add "$component"
    fi
  done
  # The threaded wasm build: a pinned nightly, its std's sources (build-std) and its clippy (make
  # test lints that build with it).
  local nightly="${THREADS_TOOLCHAIN:?set by the Makefile}"
  local installed
  installed="$(rustup component list --toolchain "$nightly" --installed 2>/dev/null || true)"
  if ! grep -q '^rust-src' <<<"$installed" || ! grep -q '^clippy' <<<"$installed"; then
    step "rustup toolchain install $nightly --component rust-src,clippy"
    rustup toolchain install "$nightly" --profile minimal --component rust-src,clippy
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

browser() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    step "apt-get install chromium chromium-driver"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium chromium-driver
  fi
}

# espeak-ng speaks the audio package's test recordings (make models-audio).
audio_tools() {
  if ! command -v espeak-ng >/dev/null; then
    step "apt-get install espeak-ng"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends espeak-ng
  fi
}

fuzz_tools() {
  local version="${CARGO_FUZZ_VERSION:?set by the Makefile}"
  if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
    step "cargo install cargo-fuzz $version"
    cargo_install cargo-fuzz --version "$version"
  fi
}

case "$want" in
  rust) rust_tools ;;
  fuzz) fuzz_tools ;;
  browser) browser ;;
  audio) audio_tools ;;
  all) rust_tools; browser; audio_tools ;;
  *) echo "usage: setup.sh [all|rust|browser|audio|fuzz]" >&2; exit 2 ;;
esac
