# edgeserve: every command a developer or CI needs. `make test` and `make demo` install what is
# missing (idempotently, from the package registries only) before they build.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The wasm-bindgen pin in Cargo.toml is the one source of the version; the CLI must match it.
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
WASM_PACK_VERSION := 0.15.1
CHROMEDRIVER := /usr/bin/chromedriver
PORT ?= 8080
export WASM_BINDGEN_VERSION WASM_PACK_VERSION

.PHONY: help setup setup-rust setup-browser setup-node models pkg site demo \
        bench-batch test test-native test-wasm test-wasm-node test-wasm-chrome test-js test-e2e clean

help:
	@echo "make demo     build the npm package and serve the demo page at http://localhost:$(PORT)/"
	@echo "make test     install what is missing, then run every test (native, wasm in Node and"
	@echo "              headless Chromium, the npm package in Node, the page in Chromium)"
	@echo "make pkg      build the npm package into pkg/ (wasm-pack, release)"
	@echo "make site     build the static site into dist/ (www/ + pkg/)"
	@echo "make models   retrain the model packages under models/ (Python, scikit-learn)"

## Setup ---------------------------------------------------------------------------------------

setup: setup-rust setup-browser setup-node

setup-rust:
	@bash scripts/setup.sh rust

setup-browser:
	@bash scripts/setup.sh browser

setup-node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## Models --------------------------------------------------------------------------------------

models:
	python3 -m pip install --quiet -r training/requirements.txt
	python3 training/train.py

## Build ---------------------------------------------------------------------------------------

pkg: setup-rust
	wasm-pack build --release --target web --out-dir pkg --out-name edgeserve
	node scripts/package.mjs
	@ls -l pkg/edgeserve_bg.wasm

site: pkg
	node scripts/site.mjs

demo: site
	node scripts/serve.mjs dist $(PORT)

## Benchmarks (figures, not tests) ----------------------------------------------------------

bench-batch: pkg
	node bench/batch-throughput.mjs digits-accurate 7

## Tests ---------------------------------------------------------------------------------------

test: setup test-native test-wasm test-js test-e2e
	@echo "make test: all suites passed"

test-native:
	cargo test
	EDGESERVE_MODELS=tests/fixtures/models cargo test --test embedded_set

test-wasm: test-wasm-node test-wasm-chrome

# wasm-bindgen-test-runner exits 0 when Node runs out of work mid-test (a Promise that never
# settles): the result line is required, so such a run fails.
test-wasm-node: setup-rust
	@mkdir -p target
	wasm-pack test --node -- --test web 2>&1 | tee target/test-wasm-node.log
	@grep -q '^test result: ok\.' target/test-wasm-node.log || { echo "test-wasm-node: no result line: a test never finished"; exit 1; }

test-wasm-chrome: setup-rust setup-browser
	@mkdir -p target
	WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome --chromedriver $(CHROMEDRIVER) -- --test web 2>&1 | tee target/test-wasm-chrome.log
	@grep -q '^test result: ok\.' target/test-wasm-chrome.log || { echo "test-wasm-chrome: no result line: a test never finished"; exit 1; }

test-js: pkg
	node --test tests/js/
	node bench/batch-throughput.mjs digits-accurate 1   # smoke: the benchmark runs

test-e2e: site setup-node setup-browser
	node --test tests/e2e/

clean:
	cargo clean
	rm -rf pkg dist node_modules
