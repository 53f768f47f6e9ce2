//! Audio through a stateful model: a [`Session`] takes a caller's audio in chunks of any length
//! at any rate, resamples and frames it ([`crate::audio`]), runs the model frame by frame with
//! its recurrent state carried from one frame to the next ([`crate::state`]), and decodes each
//! frame's output for the task ([`crate::task::voice_activity`]). Every session has its own
//! state: two sessions over one model never share it.
//!
//! [`LoadedModel::speech_segments`] is the whole-recording form: a session of its own over all
//! the audio, then the segments of silero-vad's `get_speech_timestamps`. A graph that runs a
//! sequence of chunks in one run ([`AudioPreprocessing::sequence`]) takes a recording in blocks
//! of [`BLOCK`] chunks, and a session's chunks in blocks too once that many wait.

use crate::audio::{
    check_samples, AudioError, AudioName, AudioPreprocessing, Framer, Resampler, MAX_FRAME, MAX_RECORDING_SAMPLES,
};
use crate::error::{Error, Result};
use crate::latency::{Mode, Stopwatch};
use crate::manifest::{Manifest, Role};
use crate::model::LoadedModel;
use crate::state::{State, StateSpec};
use crate::task::voice_activity::{segments, Segment, SpeechDetector, SpeechEvent, VoiceActivitySettings};
use crate::tensor::{Array, TensorData};

/// The most chunks one run of a sequence graph takes ([`AudioPreprocessing::sequence`]).
pub const BLOCK: usize = 256;

/// What runs the chunks that wait in a session's framer, beyond whole blocks of a sequence graph
/// (a graph that is not one runs every chunk alone).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rest {
    /// Each alone: a stream's latency per chunk, and one plan for one chunk.
    Singly,
    /// They wait for more audio, and run together with the last (a whole recording, given in
    /// pieces).
    Wait,
}

/// What feeds each graph input of an audio model.
#[derive(Debug, Clone, PartialEq)]
enum Feed {
    /// The chunks' samples, `[N, context + frame]` (`N` is 1 unless the graph runs sequences).
    Samples,
    /// The model's sample rate, as a scalar of this element type.
    SampleRate { int32: bool },
    /// State pair `i`.
    State(usize),
}

/// How an audio model's graph is fed and read: built once when the model loads.
#[derive(Debug, Clone)]
pub(crate) struct AudioGraph {
    config: AudioPreprocessing,
    states: Vec<StateSpec>,
    /// One per graph input, in the engine's order.
    feeds: Vec<Feed>,
    /// The engine's output with role "probability".
    probability: usize,
    /// The engine's output for each state pair.
    state_outputs: Vec<usize>,
    settings: VoiceActivitySettings,
}

impl AudioGraph {
    /// The audio graph of a model whose preprocessing is audio (None otherwise); the manifest
    /// was validated and checked against the graph's inputs and outputs.
    pub(crate) fn new(
        manifest: &Manifest,
        inputs: &[crate::manifest::GraphIo],
        outputs: &[crate::manifest::GraphIo],
    ) -> Result<Option<AudioGraph>> {
        let crate::preprocess::Preprocessing::Audio(config) = &manifest.preprocessing else {
            return Ok(None);
        };
        let missing =
            |what: String| Error::manifest(&manifest.name, "preprocessing", "a feed for every graph input", what);
        let mut feeds = Vec::with_capacity(inputs.len());
        for input in inputs {
            let feed = if input.name == config.input {
                Feed::Samples
            } else if config.sample_rate_input.as_deref() == Some(input.name.as_str()) {
                Feed::SampleRate { int32: input.dtype == "int32" }
            } else if let Some(i) = manifest.state.iter().position(|s| s.input == input.name) {
                Feed::State(i)
            } else {
                return Err(missing(format!("nothing for input {:?}", input.name)));
            };
            feeds.push(feed);
        }
        let position = |name: &str| outputs.iter().position(|o| o.name == name);
        let probability = manifest
            .output_with_role(Role::Probability)
            .and_then(|(_, o)| position(&o.name))
            .ok_or_else(|| Error::manifest(&manifest.name, "outputs", "an output with role \"probability\"", "none"))?;
        let state_outputs = manifest
            .state
            .iter()
            .map(|s| position(&s.output).ok_or_else(|| missing(format!("no graph output {:?}", s.output))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(AudioGraph {
            config: config.clone(),
            states: manifest.state.clone(),
            feeds,
            probability,
            state_outputs,
            settings: manifest.voice_activity.unwrap_or_default(),
        }))
    }
}

/// What a session's chunk of audio gave: the probability of each frame completed by it, the
/// speech events those frames made, and the inference time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Step {
    /// One speech probability per frame completed, in order.
    pub probabilities: Vec<f32>,
    /// The index (from the session's start) of the first of them.
    pub first_frame: u64,
    /// Speech starts and ends, as they happened.
    pub events: Vec<SpeechEvent>,
    /// Time spent running the model (and resampling) for this chunk, in ms.
    pub latency_ms: f64,
}

/// One stream of audio over a model: its resampler, framer, state and speech detector.
#[derive(Debug)]
pub struct Session {
    resampler: Resampler,
    framer: Framer,
    state: State,
    detector: SpeechDetector,
    /// Chunks given since the start (names them in errors).
    chunks: u64,
    /// Frames run since the start.
    frames: u64,
    /// Samples at the model's rate framed since the start (the recording's length so far).
    samples: u64,
    /// Reused buffers.
    resampled: Vec<f32>,
    chunk: Vec<f32>,
}

impl Session {
    /// The state, one tensor per pair of the manifest's `state`.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Sets the state (all pairs at once; a value of the wrong size is refused, and the state is
    /// left as it was).
    pub fn set_state(&mut self, values: &[&[f32]]) -> std::result::Result<(), crate::state::StateSizeError> {
        self.state.set_all(values)
    }

    /// The caller's sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.resampler.from_rate()
    }

    /// Frames run since the session started (or was reset).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// True while the detector is within speech.
    pub fn in_speech(&self) -> bool {
        self.detector.in_speech()
    }

    /// Starts over: state at its initial value, no audio waiting, time back at 0.
    pub fn reset(&mut self) {
        self.resampler.reset();
        self.framer.reset();
        self.state.reset();
        self.detector.reset();
        self.chunks = 0;
        self.frames = 0;
        self.samples = 0;
    }
}

impl LoadedModel {
    fn audio_graph(&self) -> Result<&AudioGraph> {
        self.audio.as_ref().ok_or_else(|| {
            Error::bad_input(
                format!("model '{}' takes no audio", self.manifest().name),
                "an audio model (a package whose preprocessing is audio)",
                format!("a model whose preprocessing is {}", self.manifest().preprocessing.kind()),
            )
        })
    }

    /// True for a model whose input is audio.
    pub fn is_audio(&self) -> bool {
        self.audio.is_some()
    }

    /// The audio preprocessing of an audio model.
    pub fn audio_config(&self) -> Result<&AudioPreprocessing> {
        Ok(&self.audio_graph()?.config)
    }

    /// The package's voice-activity settings (silero-vad's defaults where it gives none).
    pub fn voice_activity_settings(&self) -> Result<VoiceActivitySettings> {
        Ok(self.audio_graph()?.settings)
    }

    /// A new session for audio at `sample_rate` Hz, with the package's settings or `settings`.
    pub fn session(&self, sample_rate: f64, settings: Option<VoiceActivitySettings>) -> Result<Session> {
        let name = &self.manifest().name;
        let graph = self.audio_graph()?;
        let settings = settings.unwrap_or(graph.settings);
        settings.validate().map_err(|(f, x, g)| Error::bad_input(format!("options.{f} is out of range"), x, g))?;
        let rate = crate::audio::sample_rate(sample_rate).map_err(|e| e.into_error(name))?;
        let config = &graph.config;
        Ok(Session {
            resampler: Resampler::new(rate, config.sample_rate).map_err(|e| e.into_error(name))?,
            framer: Framer::new(config.frame, config.context),
            state: State::new(&graph.states),
            detector: SpeechDetector::new(settings, config.frame, config.sample_rate),
            chunks: 0,
            frames: 0,
            samples: 0,
            resampled: vec![],
            chunk: vec![],
        })
    }

    /// Gives a session its next chunk of audio (any length, at the session's rate), runs every
    /// frame it completes and returns their probabilities and events. A bad chunk (empty, too
    /// long, a sample that is not finite) is refused before anything changes: the session goes
    /// on as if it had not come. Recorded as stream latency, per frame.
    pub fn push_audio(&mut self, session: &mut Session, samples: &[f32]) -> Result<Step> {
        let at = AudioName::Chunk(session.chunks);
        check_samples(samples, at, MAX_FRAME).map_err(|e| e.into_error(&self.manifest().name))?;
        session.chunks += 1;
        let clock = Stopwatch::start();
        let mut step = self.feed(session, samples, false, Rest::Singly)?;
        step.latency_ms = clock.elapsed_ms();
        let frames = step.probabilities.len();
        if frames > 0 {
            self.record(Mode::Stream, step.latency_ms / frames as f64, frames as u64);
        }
        Ok(step)
    }

    /// Ends a session's recording: the audio still waiting is resampled and its last frame,
    /// padded with silence, is run. The session then starts over (its state too).
    pub fn finish_audio(&mut self, session: &mut Session) -> Result<Step> {
        let clock = Stopwatch::start();
        let step = self.feed(session, &[], true, Rest::Singly);
        session.reset();
        let mut step = step?;
        step.latency_ms = clock.elapsed_ms();
        Ok(step)
    }

    /// Runs one frame of silence in a session of its own: what loading does, so that the first
    /// chunk a caller gives does not pay for the plan's set-up.
    pub(crate) fn warm_up_audio(&mut self) -> Result<()> {
        let config = self.audio_graph()?.config.clone();
        let mut session = self.session(config.sample_rate as f64, None)?;
        self.feed(&mut session, &vec![0.0; config.frame], true, Rest::Singly).map(|_| ())
    }

    /// Resamples `samples` into the session's framer (with `last`, flushes the resampler and
    /// pads the last frame) and runs the frames completed (see [`Rest`]).
    fn feed(&mut self, session: &mut Session, samples: &[f32], last: bool, rest: Rest) -> Result<Step> {
        let mut resampled = std::mem::take(&mut session.resampled);
        resampled.clear();
        let resampler = &mut session.resampler;
        let done = resampler.push(samples, &mut resampled).and_then(|_| {
            if last {
                resampler.finish(&mut resampled)
            } else {
                Ok(())
            }
        });
        let step = done.map_err(|e| e.into_error(&self.manifest().name)).and_then(|_| {
            session.framer.push(&resampled);
            session.samples += resampled.len() as u64;
            self.run_frames(session, last, rest)
        });
        session.resampled = resampled;
        step
    }

    /// Runs the whole chunks the framer holds: blocks of [`BLOCK`] for a sequence graph, then
    /// the rest as `rest` says; with `last`, also the padded rest of the recording.
    fn run_frames(&mut self, session: &mut Session, last: bool, rest: Rest) -> Result<Step> {
        let mut step = Step { first_frame: session.frames, ..Step::default() };
        let sequence = self.audio_graph()?.config.sequence;
        let mut chunks = std::mem::take(&mut session.chunk);
        let result = (|| {
            loop {
                let whole = session.framer.whole();
                let n = match rest {
                    _ if !sequence => whole.min(1),
                    _ if whole >= BLOCK => BLOCK,
                    Rest::Singly => whole.min(1),
                    Rest::Wait if !last => 0,
                    Rest::Wait => whole,
                };
                if n == 0 {
                    break;
                }
                chunks.clear();
                session.framer.next_chunks(n, &mut chunks);
                self.run_chunks(session, &chunks, n, &mut step)?;
            }
            if last && session.framer.finish(&mut chunks) {
                self.run_chunks(session, &chunks, 1, &mut step)?;
            }
            Ok(())
        })();
        session.chunk = chunks;
        result.map(|_| step)
    }

    /// Runs `n` chunks (each `context + frame` samples, in order; `n` is 1 unless the graph runs
    /// sequences) with the session's state, and takes the next state. On error the state is left
    /// as it was.
    fn run_chunks(&mut self, session: &mut Session, chunks: &[f32], n: usize, step: &mut Step) -> Result<()> {
        let graph = self.audio_graph()?;
        let rate = graph.config.sample_rate;
        let arrays: Vec<Array> = graph
            .feeds
            .iter()
            .map(|feed| match feed {
                Feed::Samples => Array { shape: vec![n, chunks.len() / n], data: TensorData::F32(chunks.to_vec()) },
                Feed::SampleRate { int32: false } => Array { shape: vec![], data: TensorData::I64(vec![rate as i64]) },
                Feed::SampleRate { int32: true } => Array { shape: vec![], data: TensorData::I32(vec![rate as i32]) },
                Feed::State(i) => Array {
                    shape: graph.states[*i].shape.clone(),
                    data: TensorData::F32(session.state.value(*i).to_vec()),
                },
            })
            .collect();
        let (probability, state_outputs) = (graph.probability, graph.state_outputs.clone());
        let outputs = self.engine.run_all(arrays)?;
        let name = &self.manifest().name;
        let f32s = |ix: usize, what: &str| -> Result<&[f32]> {
            outputs.get(ix).and_then(|a| a.data.as_f32()).ok_or_else(|| Error::Inference {
                model: name.clone(),
                detail: format!("the model returned no float32 {what} output"),
            })
        };
        let probabilities = f32s(probability, "probability")?;
        if probabilities.len() != n {
            return Err(Error::Inference {
                model: name.clone(),
                detail: format!("the probability output has {} values for {n} chunks", probabilities.len()),
            });
        }
        let next: Vec<&[f32]> = state_outputs.iter().map(|&ix| f32s(ix, "state")).collect::<Result<_>>()?;
        session.state.set_all(&next).map_err(|e| Error::Inference { model: name.clone(), detail: e.to_string() })?;
        session.frames += n as u64;
        for &p in probabilities {
            step.probabilities.push(p);
            step.events.extend(session.detector.push(p));
        }
        Ok(())
    }

    /// The speech segments of a whole recording (`samples` at `sample_rate` Hz), in samples at
    /// the model's rate, with the probability of every frame; as silero-vad's
    /// `get_speech_timestamps` finds them (the last frame padded with silence). Recorded as one
    /// batch call, each frame its share.
    pub fn speech_segments(
        &mut self,
        samples: &[f32],
        sample_rate: f64,
        settings: Option<VoiceActivitySettings>,
    ) -> Result<Recording> {
        let name = self.manifest().name.clone();
        check_samples(samples, AudioName::Audio, MAX_RECORDING_SAMPLES).map_err(|e| e.into_error(&name))?;
        let mut session = self.session(sample_rate, settings)?;
        let settings = settings.unwrap_or(self.audio_graph()?.settings);
        let clock = Stopwatch::start();
        let (frame, rate) = (self.audio_graph()?.config.frame, self.audio_graph()?.config.sample_rate);
        let mut probabilities = Vec::with_capacity(samples.len() / frame + 2);
        // In pieces, so that the resampled copy stays small.
        for piece in samples.chunks(MAX_FRAME) {
            probabilities.extend(self.feed(&mut session, piece, false, Rest::Wait)?.probabilities);
        }
        probabilities.extend(self.feed(&mut session, &[], true, Rest::Wait)?.probabilities);
        let length = session.samples;
        let ms = clock.elapsed_ms();
        self.record(Mode::Batch, ms / probabilities.len().max(1) as f64, probabilities.len() as u64);
        let segments = segments(&probabilities, frame, rate, length, &settings);
        Ok(Recording { segments, probabilities, length, rate, latency_ms: ms })
    }

    /// Decodes a WAV file and finds its speech segments ([`LoadedModel::speech_segments`]).
    /// `rate`, when given, must be the file's own sample rate.
    pub fn speech_segments_wav(
        &mut self,
        wav: &[u8],
        rate: Option<f64>,
        settings: Option<VoiceActivitySettings>,
    ) -> Result<Recording> {
        let decoded = decode(wav).map_err(|e| e.into_error(&self.manifest().name))?;
        if let Some(rate) = rate.filter(|r| *r != decoded.sample_rate as f64) {
            return Err(Error::bad_input(
                "options.sampleRate disagrees with the WAV file",
                format!("the file's own rate, {} Hz (or no sampleRate)", decoded.sample_rate),
                rate.to_string(),
            ));
        }
        self.speech_segments(&decoded.samples, decoded.sample_rate as f64, settings)
    }
}

#[cfg(feature = "audio")]
fn decode(wav: &[u8]) -> std::result::Result<crate::audio::Decoded, AudioError> {
    crate::audio::decode_wav(wav)
}

#[cfg(not(feature = "audio"))]
fn decode(_wav: &[u8]) -> std::result::Result<crate::audio::Decoded, AudioError> {
    Err(AudioError::Wav { offset: 0, detail: "this build decodes no WAV (the `audio` feature)".into() })
}

/// The speech of a whole recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Speech segments, in samples at the model's rate.
    pub segments: Vec<Segment>,
    /// The speech probability of every frame.
    pub probabilities: Vec<f32>,
    /// The recording's length in samples at the model's rate.
    pub length: u64,
    /// The model's rate, in Hz.
    pub rate: u32,
    /// The call's time, in ms.
    pub latency_ms: f64,
}

impl Recording {
    /// The segments in seconds, `(start, end)`.
    pub fn seconds(&self) -> Vec<(f64, f64)> {
        let r = self.rate as f64;
        self.segments.iter().map(|s| (s.start as f64 / r, s.end as f64 / r)).collect()
    }
}
