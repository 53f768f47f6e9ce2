//! Audio in, through the boundary: `model.speechSegments(audio, options)` for a whole recording
//! and `model.session(options)` for a stream fed chunk by chunk (an [`AudioSession`]). The core
//! does the work ([`crate::session`]); this module reads the arguments and shapes the results.

use serde::Serialize;

use super::js::{self, check_options, number_option, F32s};
use super::{Model, Shared, Thrown, Value};
use crate::audio::{MAX_FRAME, MAX_RECORDING_SAMPLES};
use crate::error::Error;
use crate::preprocess::RowName;
use crate::session::{Recording, Session, Step};
use crate::task::voice_activity::{Edge, VoiceActivitySettings};

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
extern "C" {
    /// Audio as `speechSegments` takes it (`AudioInput` in the `.d.ts`).
    #[wasm_bindgen(typescript_type = "AudioInput")]
    pub type AudioInput;
    /// Samples as a session takes them (`Float32Array` in the `.d.ts`).
    #[wasm_bindgen(typescript_type = "Float32Array | number[]")]
    pub type SamplesInput;
    /// A model state as `setState` takes it.
    #[wasm_bindgen(typescript_type = "Float32Array[]")]
    pub type StateInput;
    #[wasm_bindgen(typescript_type = "SpeechOptions")]
    pub type SpeechOptions;
    #[wasm_bindgen(typescript_type = "SessionOptions")]
    pub type SessionOptions;
}
/// Audio (natively: JSON numbers).
#[cfg(not(target_family = "wasm"))]
pub type AudioInput = serde_json::Value;
/// Samples (natively: JSON numbers).
#[cfg(not(target_family = "wasm"))]
pub type SamplesInput = serde_json::Value;
/// A state (natively: JSON arrays).
#[cfg(not(target_family = "wasm"))]
pub type StateInput = serde_json::Value;
/// Options (natively: JSON).
#[cfg(not(target_family = "wasm"))]
pub type SpeechOptions = serde_json::Value;
#[cfg(not(target_family = "wasm"))]
pub type SessionOptions = serde_json::Value;

/// The voice-activity settings of an options object: the package's, each overridden by the
/// option of the same name.
fn settings(options: Option<&Value>, package: VoiceActivitySettings) -> Result<VoiceActivitySettings, Error> {
    let ms = (0.0, 3_600_000.0);
    let s = VoiceActivitySettings {
        threshold: number_option(options, "threshold", Some(package.threshold as f64), (0.0, 1.0))?.unwrap_or(0.5)
            as f32,
        neg_threshold: number_option(options, "negThreshold", package.neg_threshold.map(f64::from), (0.0, 1.0))?
            .map(|x| x as f32),
        min_speech_ms: number_option(options, "minSpeechMs", Some(package.min_speech_ms), ms)?.unwrap_or(0.0),
        min_silence_ms: number_option(options, "minSilenceMs", Some(package.min_silence_ms), ms)?.unwrap_or(0.0),
        speech_pad_ms: number_option(options, "speechPadMs", Some(package.speech_pad_ms), ms)?.unwrap_or(0.0),
        max_speech_s: number_option(options, "maxSpeechS", package.max_speech_s, (0.001, 1e9))?,
    };
    s.validate()
        .map_err(|(field, expected, found)| Error::bad_input(format!("{field} is out of range"), expected, found))?;
    Ok(s)
}

/// The `sampleRate` option: required for samples, absent or equal to the file's for a WAV file.
fn sample_rate(options: Option<&Value>) -> Result<Option<f64>, Error> {
    number_option(options, "sampleRate", None, (0.0, f64::MAX))
}

/// The value behind an argument (natively the argument is the value).
#[cfg(target_family = "wasm")]
fn value<T: AsRef<JsValue>>(t: &T) -> &Value {
    t.as_ref()
}
#[cfg(not(target_family = "wasm"))]
fn value(t: &Value) -> &Value {
    t
}

/// A segment in seconds (`SpeechSegment` in the `.d.ts`).
#[derive(Serialize)]
struct SegmentJs {
    start: f64,
    end: f64,
}

/// `speechSegments()`' result (`SpeechSegments` in the `.d.ts`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordingJs<'a> {
    segments: Vec<SegmentJs>,
    probabilities: F32s<'a>,
    frame_seconds: f64,
    duration_seconds: f64,
    latency_ms: f64,
}

/// A speech event (`SpeechEvent` in the `.d.ts`).
#[derive(Serialize)]
struct EventJs {
    #[serde(rename = "type")]
    kind: &'static str,
    time: f64,
    frame: u64,
}

/// What a session's chunk gave (`AudioStep` in the `.d.ts`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StepJs<'a> {
    probabilities: F32s<'a>,
    first_frame: u64,
    events: Vec<EventJs>,
    in_speech: bool,
    latency_ms: f64,
}

fn recording_js(r: &Recording, frame: usize) -> Result<Value, Error> {
    let rate = r.rate as f64;
    js::to_value(&RecordingJs {
        segments: r.seconds().into_iter().map(|(start, end)| SegmentJs { start, end }).collect(),
        probabilities: F32s(&r.probabilities),
        frame_seconds: frame as f64 / rate,
        duration_seconds: r.length as f64 / rate,
        latency_ms: r.latency_ms,
    })
}

fn step_js(step: &Step, rate: u32, in_speech: bool) -> Result<Value, Error> {
    js::to_value(&StepJs {
        probabilities: F32s(&step.probabilities),
        first_frame: step.first_frame,
        events: step
            .events
            .iter()
            .map(|e| EventJs {
                kind: if e.edge == Edge::Start { "start" } else { "end" },
                time: e.sample as f64 / rate as f64,
                frame: e.frame,
            })
            .collect(),
        in_speech,
        latency_ms: step.latency_ms,
    })
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    /// The speech in a whole recording, with a voice-activity model: `audio` is a Float32Array of
    /// mono samples (nominally -1 to 1) at `options.sampleRate` Hz, an `AudioBuffer` (Web Audio's,
    /// e.g. from `decodeAudioData`, which reads MP3, Ogg, FLAC...: channels averaged; its own rate),
    /// or the bytes of a WAV file (a Uint8Array or an ArrayBuffer: 8 to 32-bit PCM or float,
    /// channels averaged; its own rate).
    /// The audio is resampled to the model's rate in the core, run with the model's state carried
    /// from frame to frame (blocks of frames a run, for a graph that takes a sequence), and
    /// decoded as silero-vad's `get_speech_timestamps` does.
    ///
    /// Returns `{ segments, probabilities, frameSeconds, durationSeconds, latencyMs }`: segments
    /// `[{ start, end }]` in seconds; one speech probability per frame of `frameSeconds`.
    /// Options: `sampleRate` (Hz; required for samples), and the manifest's `voiceActivity`
    /// settings to override (`threshold`, `negThreshold`, `minSpeechMs`, `minSilenceMs`,
    /// `speechPadMs`, `maxSpeechS`).
    ///
    /// Throws `BAD_INPUT` for audio that is none of these, no or a bad sample rate (or one that
    /// is not the AudioBuffer's or the file's), an empty recording,
    /// a sample that is not finite (naming its index), a WAV file that does not decode (a
    /// truncated one), more than 2^27 samples, settings out of range, or a model that takes no
    /// audio; the model keeps working.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = speechSegments, unchecked_return_type = "SpeechSegments"))]
    pub fn speech_segments(&self, audio: AudioInput, options: Option<SpeechOptions>) -> Result<Value, Thrown> {
        let o = super::options(&options);
        check_options(o, "speechSegments")?;
        let package = self.shared.with(|m| m.voice_activity_settings())?;
        let settings = settings(o, package)?;
        let rate = sample_rate(o)?;
        let audio = value(&audio);
        let wav = if js::is_bytes(audio) { js::bytes(audio, "audio")? } else { None };
        let buffer = if wav.is_none() { js::audio_buffer(audio, MAX_RECORDING_SAMPLES).transpose()? } else { None };
        let recording = match (wav, buffer) {
            (Some(wav), _) => self.shared.with(|m| m.speech_segments_wav(&wav, rate, Some(settings)))?,
            (None, Some((samples, buffer_rate))) => {
                if let Some(rate) = rate.filter(|r| *r != buffer_rate) {
                    Err(Error::bad_input(
                        "options.sampleRate is not the AudioBuffer's",
                        format!("no sampleRate (an AudioBuffer carries its own), or its rate, {buffer_rate}"),
                        rate.to_string(),
                    ))?;
                }
                self.shared.with(|m| m.speech_segments(&samples, buffer_rate, Some(settings)))?
            }
            (None, None) => {
                let rate = rate.ok_or_else(|| {
                    Error::bad_input(
                        "options.sampleRate is missing",
                        "the rate of the samples in Hz, e.g. { sampleRate: 48000 } (or a WAV file, which carries its own)",
                        "no sampleRate",
                    )
                })?;
                let samples = js::read_samples(audio, RowName::Samples, MAX_RECORDING_SAMPLES)?;
                self.shared.with(|m| m.speech_segments(&samples, rate, Some(settings)))?
            }
        };
        let frame = self.shared.with(|m| Ok(m.audio_config()?.frame))?;
        Ok(recording_js(&recording, frame)?)
    }

    /// A session for a stream of audio at `options.sampleRate` Hz (a microphone, a call): give it
    /// chunks of any length with `push(samples)`, and get each frame's speech probability and the
    /// speech start and end events as they happen. Every session carries its own model state;
    /// two sessions never share one. Options: `sampleRate` (required), and the voice-activity
    /// settings to override, as for `speechSegments`.
    ///
    /// Throws `BAD_INPUT` for a missing or bad sample rate, settings out of range, or a model that
    /// takes no audio.
    #[cfg_attr(target_family = "wasm", wasm_bindgen)]
    pub fn session(&self, options: Option<SessionOptions>) -> Result<AudioSession, Thrown> {
        let o = super::options(&options);
        check_options(o, "session")?;
        let rate = sample_rate(o)?.ok_or_else(|| {
            Error::bad_input(
                "options.sampleRate is missing",
                "the rate of the audio in Hz, e.g. { sampleRate: 48000 }",
                "no sampleRate",
            )
        })?;
        let package = self.shared.with(|m| m.voice_activity_settings())?;
        let settings = settings(o, package)?;
        let session = self.shared.with(|m| m.session(rate, Some(settings)))?;
        let model_rate = self.shared.with(|m| Ok(m.audio_config()?.sample_rate))?;
        Ok(AudioSession { model: self.shared.clone(), session, model_rate })
    }
}

/// A stream of audio through a voice-activity model (`model.session({ sampleRate })`): its own
/// resampler, frames and model state. Call `free()` when done.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub struct AudioSession {
    model: Shared,
    session: Session,
    model_rate: u32,
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl AudioSession {
    /// Takes the next chunk of samples (a Float32Array of any length, at the session's rate) and
    /// runs every frame it completes: returns `{ probabilities, firstFrame, events, inSpeech,
    /// latencyMs }`, with one probability per frame completed (frame `firstFrame` first), the
    /// speech events `[{ type: 'start' | 'end', time, frame }]` they made (`time` in seconds from
    /// the session's start, padded as the settings say), whether speech is ongoing, and the
    /// chunk's time in ms.
    ///
    /// Throws `BAD_INPUT` for samples that are not a typed array or an array of numbers, an
    /// empty chunk, more than 2^20 samples, or a sample that is not finite (naming the chunk and
    /// the index); the session goes on as if the chunk had not come, its state untouched.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "AudioStep"))]
    pub fn push(&mut self, samples: SamplesInput) -> Result<Value, Thrown> {
        let samples = js::read_samples(value(&samples), RowName::Samples, MAX_FRAME)?;
        let session = &mut self.session;
        let step = self.model.with(|m| m.push_audio(session, &samples))?;
        Ok(step_js(&step, self.model_rate, self.session.in_speech())?)
    }

    /// Ends the recording: the samples still waiting for a frame are run, the last frame padded
    /// with silence. Returns what `push` returns; the session then starts over.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "AudioStep"))]
    pub fn finish(&mut self) -> Result<Value, Thrown> {
        let session = &mut self.session;
        let step = self.model.with(|m| m.finish_audio(session))?;
        Ok(step_js(&step, self.model_rate, false)?)
    }

    /// The model state carried to the next frame: one Float32Array per pair of the manifest's
    /// `state` (in its order, each of its shape's size: `h` and `c`, `[1, 1, 128]` each, for vad),
    /// copies.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, unchecked_return_type = "Float32Array[]"))]
    pub fn state(&self) -> Result<Value, Thrown> {
        let state = self.session.state();
        let values: Vec<F32s> = (0..state.specs().len()).map(|i| F32s(state.value(i))).collect();
        Ok(js::to_value(&values)?)
    }

    /// Sets the model state (what `state` gave, to resume a stream where it was): one
    /// Float32Array (or array of numbers) per pair, each of its size, finite. Throws `BAD_INPUT`
    /// for a state of the wrong count or size or with a value that is not finite; the session's
    /// state is then left as it was.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = setState))]
    pub fn set_state(&mut self, values: StateInput) -> Result<(), Thrown> {
        let values = value(&values);
        let specs = Vec::from(self.session.state().specs());
        let what = "state";
        let count = js::array_len(values, &what)?.ok_or_else(|| {
            Error::bad_input(
                "state is not an array",
                format!("an array of {} Float32Arrays, as session.state gives", specs.len()),
                js::describe(values),
            )
        })?;
        if count != specs.len() {
            let pairs = specs.iter().map(|s| s.input.as_str()).collect::<Vec<_>>().join(", ");
            Err(Error::bad_input(
                "state has the wrong number of tensors",
                format!("{} (one per state pair: {pairs})", specs.len()),
                count.to_string(),
            ))?;
        }
        let mut read = Vec::with_capacity(count);
        for (i, spec) in specs.iter().enumerate() {
            let item = js::array_item(values, i, &format!("state[{i}]"))?;
            let value = js::read_samples(&item, RowName::State(i), spec.len())?;
            if let Some(j) = value.iter().position(|x| !x.is_finite()) {
                Err(Error::bad_input(
                    format!("state[{i}][{j}] is not finite"),
                    "finite numbers",
                    value[j].to_string(),
                ))?;
            }
            read.push(value);
        }
        let refs: Vec<&[f32]> = read.iter().map(Vec::as_slice).collect();
        self.session.set_state(&refs).map_err(|e| {
            Error::bad_input(
                format!("state[{}] has the wrong size", specs.iter().position(|s| s.input == e.name).unwrap_or(0)),
                format!("{} values (shape {:?})", e.expected, e.shape),
                format!("{} values", e.got),
            )
        })?;
        Ok(())
    }

    /// Starts over: the model state at its initial value, nothing waiting, time back at 0.
    pub fn reset(&mut self) {
        self.session.reset();
    }

    /// The rate of the audio this session takes, in Hz.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter = sampleRate))]
    pub fn sample_rate(&self) -> u32 {
        self.session.sample_rate()
    }

    /// Frames run since the session started (or was reset).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn frames(&self) -> f64 {
        self.session.frames() as f64
    }
}
