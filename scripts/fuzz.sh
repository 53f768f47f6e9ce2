#!/usr/bin/env bash
# Runs `cargo fuzz <args>` in fuzz/ with a toolchain that takes its -Z flags: the nightly
# toolchain when rustup has one, else the stable one with RUSTC_BOOTSTRAP=1 (this machine's
# toolchains come from rustup only; none is downloaded here).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  exec cargo +nightly fuzz "$@"
else
  RUSTC_BOOTSTRAP=1 exec cargo fuzz "$@"
fi
