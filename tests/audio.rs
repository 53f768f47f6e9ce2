//! Audio natively: the package `vad` (Silero VAD v6) that `make models-audio` makes from the PyPI
//! wheel (training/audio_packages.py, into target/models-audio, or the directory in
//! EDGESERVE_AUDIO_MODELS), on the recordings made with it, against the references recorded
//! there: onnxruntime's speech probability of every chunk, the segments of silero-vad's
//! `get_speech_timestamps` and the events of its `VADIterator`. Then sessions (chunks of any
//! size, state kept apart) and what an audio model must refuse.
#![cfg(all(not(target_family = "wasm"), feature = "audio"))]

mod common;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use common::root;
use edgeserve::audio::decode_wav;
use edgeserve::task::voice_activity::{segments, Edge, Segment, VoiceActivitySettings};
use edgeserve::LoadedModel;
use serde_json::Value;

/// How close edgeserve's probabilities must be to onnxruntime's, per chunk.
const PROBABILITY_TOLERANCE: f32 = 1e-4;

fn dir() -> PathBuf {
    let base = std::env::var("EDGESERVE_AUDIO_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/models-audio"));
    assert!(
        base.join("vad/manifest.json").is_file(),
        "{} has no vad package: run `make models-audio` first",
        base.display()
    );
    base
}

fn load() -> LoadedModel {
    let d = dir().join("vad");
    let manifest = std::fs::read_to_string(d.join("manifest.json")).unwrap();
    LoadedModel::from_bytes(std::fs::read(d.join("model.onnx")).unwrap(), Some(&manifest)).unwrap()
}

/// The model, loaded once for the tests.
fn vad() -> std::sync::MutexGuard<'static, LoadedModel> {
    static MODEL: OnceLock<Mutex<LoadedModel>> = OnceLock::new();
    MODEL.get_or_init(|| Mutex::new(load())).lock().unwrap_or_else(|e| e.into_inner())
}

fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| serde_json::from_slice(&std::fs::read(dir().join("vad/golden.json")).unwrap()).unwrap())
}

fn recordings() -> &'static [Value] {
    golden()["recordings"].as_array().unwrap()
}

fn wav(file: &str) -> Vec<u8> {
    std::fs::read(dir().join("audio").join(file)).unwrap()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn segments_of(v: &Value) -> Vec<Segment> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| Segment { start: s["start"].as_u64().unwrap(), end: s["end"].as_u64().unwrap() })
        .collect()
}

/// At 16 kHz the model sees the file's own samples: every chunk's probability within 1e-4 of
/// onnxruntime's, and the segments exactly silero-vad's.
#[test]
fn recordings_at_the_model_rate_match_onnxruntime_and_silero() {
    let mut model = vad();
    let mut checked = 0;
    for r in recordings().iter().filter(|r| r["sampleRate"] == 16000) {
        let file = r["file"].as_str().unwrap();
        let found = model.speech_segments_wav(&wav(file), None, None).unwrap();
        let want = f32s(&r["probabilities"]);
        assert_eq!(found.probabilities.len(), want.len(), "{file}: chunks");
        let worst = found.probabilities.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        println!("{file}: {} chunks, largest difference from onnxruntime {worst:.2e}", want.len());
        assert!(worst <= PROBABILITY_TOLERANCE, "{file}: largest difference {worst}");
        assert_eq!(found.length, r["modelSamples"].as_u64().unwrap(), "{file}: length");
        assert_eq!(found.segments, segments_of(&r["segments"]), "{file}: segments");
        checked += 1;
    }
    assert_eq!(checked, 3, "the clean and two noisy recordings at 16 kHz");
}

/// The decoder alone against silero-vad's `get_speech_timestamps_from_probs` on made-up
/// probabilities, under settings away from the defaults: the same segments, to the sample.
#[test]
fn the_decoder_finds_the_segments_of_silero_vad() {
    let cases = golden()["decoderCases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut cut = 0;
    for (i, case) in cases.iter().enumerate() {
        let settings: VoiceActivitySettings = serde_json::from_value(case["settings"].clone()).unwrap();
        let probs = f32s(&case["probabilities"]);
        let want = segments_of(&case["segments"]);
        let found = segments(&probs, 512, 16000, case["length"].as_u64().unwrap(), &settings);
        assert_eq!(found, want, "case {i}, settings {}", case["settings"]);
        if settings.max_speech_s.is_some() {
            cut += 1;
        }
    }
    assert!(cut >= 4, "cases with maxSpeechS");
}

/// A session fed in pieces of any size gives the probabilities of the whole recording, and the
/// start and end events of silero-vad's VADIterator, at the same chunks; so does a session given
/// the whole recording in one push (blocks of chunks a run).
#[test]
fn a_session_in_pieces_streams_the_events_of_vad_iterator() {
    let mut model = vad();
    for r in recordings().iter().filter(|r| r["sampleRate"] == 16000) {
        let file = r["file"].as_str().unwrap();
        let audio = decode_wav(&wav(file)).unwrap();
        let mut session = model.session(16000.0, None).unwrap();
        let (mut probabilities, mut events) = (vec![], vec![]);
        let sizes = [1usize, 100, 512, 4000, 37, 16000];
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at == audio.samples.len() {
                break;
            }
            let end = (at + size).min(audio.samples.len());
            let step = model.push_audio(&mut session, &audio.samples[at..end]).unwrap();
            assert_eq!(step.first_frame as usize, probabilities.len());
            probabilities.extend(step.probabilities);
            events.extend(step.events);
            at = end;
        }
        let last = model.finish_audio(&mut session).unwrap();
        probabilities.extend(last.probabilities);
        events.extend(last.events);
        let want = f32s(&r["probabilities"]);
        let worst = probabilities.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert_eq!(probabilities.len(), want.len(), "{file}");
        assert!(worst <= PROBABILITY_TOLERANCE, "{file}: {worst}");
        let want_events: Vec<(u64, &str, u64)> = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["chunk"].as_u64().unwrap(), e["kind"].as_str().unwrap(), e["sample"].as_u64().unwrap()))
            .collect();
        let got: Vec<(u64, &str, u64)> =
            events.iter().map(|e| (e.frame, if e.edge == Edge::Start { "start" } else { "end" }, e.sample)).collect();
        assert_eq!(got, want_events, "{file}: events");

        // All of it in one push: the session runs blocks of 256 chunks, then the rest one by one.
        let mut session = model.session(16000.0, None).unwrap();
        let mut step = model.push_audio(&mut session, &audio.samples).unwrap();
        assert!(step.probabilities.len() > 2 * edgeserve::session::BLOCK);
        let last = model.finish_audio(&mut session).unwrap();
        step.probabilities.extend(last.probabilities);
        step.events.extend(last.events);
        let worst = step.probabilities.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert_eq!(step.probabilities.len(), want.len(), "{file}: one push");
        assert!(worst <= PROBABILITY_TOLERANCE, "{file}: one push, {worst}");
        let at_once: Vec<(u64, &str, u64)> = step
            .events
            .iter()
            .map(|e| (e.frame, if e.edge == Edge::Start { "start" } else { "end" }, e.sample))
            .collect();
        assert_eq!(at_once, want_events, "{file}: events of one push");
    }
}

/// At 8, 44.1 and 48 kHz edgeserve resamples with rubato, the reference with scipy: the
/// probabilities differ near the edges of speech, so the same segments, each edge within four
/// chunks (128 ms); and every phrase spoken is in a segment.
#[test]
fn recordings_at_other_rates_are_resampled_to_the_same_segments() {
    let mut model = vad();
    let truth = golden()["truth"].as_array().unwrap();
    let mut worst_edge = 0i64;
    let mut rates = std::collections::BTreeSet::new();
    for r in recordings() {
        let file = r["file"].as_str().unwrap();
        let found = model.speech_segments_wav(&wav(file), None, None).unwrap();
        let want = segments_of(&r["segments"]);
        let reference = f32s(&r["probabilities"]);
        let worst = found.probabilities.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        println!("{file}: largest probability difference from the reference {worst:.4}");
        assert_eq!(found.segments.len(), want.len(), "{file}: {:?} against {want:?}", found.segments);
        for (a, b) in found.segments.iter().zip(&want) {
            worst_edge =
                worst_edge.max((a.start as i64 - b.start as i64).abs()).max((a.end as i64 - b.end as i64).abs());
        }
        let seconds = found.seconds();
        for phrase in truth {
            let (start, end) = (phrase["start"].as_f64().unwrap(), phrase["end"].as_f64().unwrap());
            let mid = (start + end) / 2.0;
            assert!(
                seconds.iter().any(|(a, b)| *a <= mid && mid <= *b),
                "{file}: {phrase} in no segment of {seconds:?}"
            );
        }
        rates.insert(r["sampleRate"].as_u64().unwrap());
    }
    println!(
        "segment edges against the reference: at most {worst_edge} samples apart ({:.1} ms)",
        worst_edge as f64 / 16.0
    );
    assert!(worst_edge <= 4 * 512, "an edge {worst_edge} samples from the reference's");
    assert_eq!(rates.into_iter().collect::<Vec<_>>(), [8000, 16000, 44100, 48000]);
}

/// Two sessions interleaved chunk by chunk give what each gives alone: no shared state.
#[test]
fn sessions_keep_their_own_state() {
    let mut model = vad();
    let a = decode_wav(&wav("speech-16k-clean.wav")).unwrap().samples;
    let b = decode_wav(&wav("speech-48k-snr5.wav")).unwrap().samples;
    let alone = |model: &mut LoadedModel, samples: &[f32], rate: f64| -> Vec<f32> {
        let mut s = model.session(rate, None).unwrap();
        let mut p = vec![];
        for piece in samples.chunks(4800) {
            p.extend(model.push_audio(&mut s, piece).unwrap().probabilities);
        }
        p
    };
    let want_a = alone(&mut model, &a, 16000.0);
    let want_b = alone(&mut model, &b, 48000.0);
    let (mut sa, mut sb) = (model.session(16000.0, None).unwrap(), model.session(48000.0, None).unwrap());
    let (mut pa, mut pb) = (vec![], vec![]);
    for (x, y) in a.chunks(4800).zip(b.chunks(4800)) {
        pa.extend(model.push_audio(&mut sa, x).unwrap().probabilities);
        pb.extend(model.push_audio(&mut sb, y).unwrap().probabilities);
    }
    for x in a.chunks(4800).skip(b.len().div_ceil(4800)) {
        pa.extend(model.push_audio(&mut sa, x).unwrap().probabilities);
    }
    for y in b.chunks(4800).skip(a.len().div_ceil(4800)) {
        pb.extend(model.push_audio(&mut sb, y).unwrap().probabilities);
    }
    assert_eq!(pa, want_a);
    assert_eq!(pb, want_b);
    // reset() starts over: the same probabilities again.
    sa.reset();
    let again: Vec<f32> = a.chunks(4800).flat_map(|x| model.push_audio(&mut sa, x).unwrap().probabilities).collect();
    assert_eq!(again, want_a);
}

/// Bad audio is refused with a code and a position, and the session goes on as if it had not
/// come: the probabilities after it are those of the audio without it.
#[test]
fn bad_audio_is_refused_and_the_session_goes_on() {
    let mut model = vad();
    let audio = decode_wav(&wav("speech-16k-snr20.wav")).unwrap().samples;
    let want: Vec<f32> = {
        let mut s = model.session(16000.0, None).unwrap();
        audio.chunks(1000).flat_map(|x| model.push_audio(&mut s, x).unwrap().probabilities).collect()
    };
    let mut s = model.session(16000.0, None).unwrap();
    let mut got = vec![];
    for (i, piece) in audio.chunks(1000).enumerate() {
        if i == 20 {
            let mut nan = piece.to_vec();
            nan[7] = f32::NAN;
            let e = model.push_audio(&mut s, &nan).unwrap_err();
            assert_eq!(e.code(), "BAD_INPUT");
            assert!(e.to_string().contains("chunk 20") && e.to_string().contains("index 7"), "{e}");
            let e = model.push_audio(&mut s, &[]).unwrap_err();
            assert_eq!(e.code(), "BAD_INPUT");
            assert!(e.to_string().contains("empty"), "{e}");
            let e = model.push_audio(&mut s, &[f32::INFINITY]).unwrap_err();
            assert_eq!(e.code(), "BAD_INPUT");
        }
        got.extend(model.push_audio(&mut s, piece).unwrap().probabilities);
    }
    assert_eq!(got, want);

    for rate in [0.0, 999.0, 16000.5, f64::NAN, 1e9] {
        let e = model.session(rate, None).unwrap_err();
        assert_eq!(e.code(), "BAD_INPUT", "{rate}");
        assert!(e.to_string().contains("sampleRate"), "{e}");
    }
    let e = model.speech_segments(&[], 16000.0, None).unwrap_err();
    assert_eq!(e.code(), "BAD_INPUT");
    let bad = VoiceActivitySettings { threshold: 2.0, ..Default::default() };
    let e = model.speech_segments(&audio, 16000.0, Some(bad)).unwrap_err();
    assert!(e.to_string().contains("threshold"), "{e}");

    let file = wav("speech-16k-clean.wav");
    for cut in [10, 44, file.len() / 2] {
        let e = model.speech_segments_wav(&file[..cut], None, None).unwrap_err();
        assert_eq!(e.code(), "BAD_INPUT", "cut at {cut}");
        assert!(e.to_string().contains("WAV"), "{e}");
    }
    // A state of the wrong size is refused and leaves the state as it was.
    let mut s = model.session(16000.0, None).unwrap();
    model.push_audio(&mut s, &audio[..16000]).unwrap();
    let before = s.state().value(0).to_vec();
    assert!(s.set_state(&[&[0.0; 10]]).is_err());
    assert_eq!(s.state().value(0), before);
}

/// Rows and text are not audio: predict refuses them with the calls an audio model takes.
#[test]
fn an_audio_model_refuses_rows_and_text() {
    let mut model = vad();
    let e = model.predict(&[0.0; 576]).unwrap_err();
    assert_eq!(e.code(), "BAD_INPUT");
    assert!(e.to_string().contains("audio"), "{e}");
    assert!(model.tokenize("hello").is_err());
    assert!(!model.is_text() && model.is_audio());
}

/// The vad manifest is valid against the JSON Schema; broken audio manifests are refused by both
/// the schema and edgeserve, which names the field.
#[test]
fn audio_manifests_are_checked_by_the_schema_and_the_parser() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema/manifest.schema.json")).unwrap()).unwrap();
    let schema = jsonschema::validator_for(&schema).unwrap();
    let text = std::fs::read_to_string(dir().join("vad/manifest.json")).unwrap();
    let good: Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = schema.iter_errors(&good).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    edgeserve::Manifest::from_json(&text).unwrap();
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("a sample rate of 0", Box::new(|m| m["preprocessing"]["sampleRate"] = 0.into()), "preprocessing.sampleRate"),
        ("an empty frame", Box::new(|m| m["preprocessing"]["frame"] = 0.into()), "preprocessing.frame"),
        ("no samples input", Box::new(|m| m["preprocessing"]["input"] = "".into()), "preprocessing.input"),
        (
            "a state of no element",
            Box::new(|m| m["state"][0]["shape"] = serde_json::json!([2, 0, 128])),
            "state[0].shape",
        ),
        ("a state without its input", Box::new(|m| m["state"][0]["input"] = "hidden".into()), "inputs[1].name"),
        ("a threshold over 1", Box::new(|m| m["voiceActivity"]["threshold"] = 1.5.into()), "voiceActivity.threshold"),
        ("an unknown setting", Box::new(|m| m["voiceActivity"]["window"] = 3.into()), "voiceActivity.window"),
        ("audio with another task", Box::new(|m| m["task"] = "regression".into()), "voiceActivity"),
        ("an unknown role", Box::new(|m| m["outputs"][0]["role"] = "speech".into()), "outputs[0].role"),
    ];
    for (what, edit, field) in cases {
        let mut m = good.clone();
        edit(&mut m);
        let err = edgeserve::Manifest::from_json(&m.to_string()).unwrap_err();
        match &err {
            edgeserve::Error::Manifest { field: f, .. } => assert!(f.starts_with(field), "{what}: {err}"),
            other => panic!("{what}: {other}"),
        }
        if what != "a state without its input" {
            assert!(!schema.is_valid(&m), "the schema accepts a manifest with {what}");
        }
    }
}
