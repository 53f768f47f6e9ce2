//! Audio in: the manifest's audio preprocessing, and what turns a caller's audio into the chunks
//! a model takes: samples checked, resampled from any rate to the model's with rubato
//! ([`Resampler`]), cut into frames with the samples of the previous frame before each one
//! ([`Framer`]), and WAV files decoded with hound ([`decode_wav`]). Errors are [`AudioError`]s,
//! which keep where the bad sample or byte was.
//!
//! Everything here is plain Rust; the model's part (graph inputs, state, the task) is in
//! [`crate::session`].

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The manifest's `preprocessing` of an audio model (`"type": "audio"`): which samples, at which
/// rate, in which chunks, into which graph input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AudioPreprocessing {
    /// The sample rate the model takes, in Hz; audio at any other rate is resampled to it.
    pub sample_rate: u32,
    /// New samples per chunk (at `sampleRate`).
    pub frame: usize,
    /// Samples of the previous chunk put before each chunk's new ones (zeros before the first):
    /// the graph input takes `context + frame` samples.
    #[serde(default)]
    pub context: usize,
    /// The graph input that takes the samples, float32 `[N, context + frame]`.
    pub input: String,
    /// True when the samples input's `N` is a sequence of consecutive chunks of one stream,
    /// which the graph runs in order with its recurrent state carried from each chunk to the
    /// next (a recurrent layer over that axis, as silero-vad's `16k_sequence` graph has): one run
    /// of `N` chunks then gives their `N` outputs and the state after the last, as `N` runs of
    /// one chunk would, so that a whole recording runs in blocks of chunks. False (the default):
    /// each run takes one chunk, `N` = 1.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sequence: bool,
    /// The graph input that takes the sample rate (an int64 scalar), for graphs that take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate_input: Option<String>,
}

/// The lowest and highest sample rates edgeserve takes, in Hz.
pub const RATES: (u32, u32) = (1000, 384_000);

/// The most samples of one recording given whole (`speechSegments`): beyond that, a session
/// takes the audio chunk by chunk in constant memory.
pub const MAX_RECORDING_SAMPLES: usize = 1 << 27;

/// The most samples a chunk or a frame may have.
pub const MAX_FRAME: usize = 1 << 20;

impl AudioPreprocessing {
    /// Samples the graph input takes per chunk: `context + frame`.
    pub fn chunk(&self) -> usize {
        self.context + self.frame
    }

    /// Checks the fields on their own, as (field, expected, found).
    pub fn validate(&self) -> Result<(), (String, String, String)> {
        let e = |f: &str, x: String, g: String| Err((f.to_owned(), x, g));
        if !(RATES.0..=RATES.1).contains(&self.sample_rate) {
            return e(
                "sampleRate",
                format!("a rate in Hz from {} to {}", RATES.0, RATES.1),
                self.sample_rate.to_string(),
            );
        }
        if self.frame == 0 || self.frame > MAX_FRAME {
            return e("frame", format!("a number of samples from 1 to {MAX_FRAME}"), self.frame.to_string());
        }
        if self.context > MAX_FRAME {
            return e("context", format!("a number of samples up to {MAX_FRAME}"), self.context.to_string());
        }
        if self.input.is_empty() {
            return e("input", "the name of the graph input that takes the samples".into(), "\"\"".into());
        }
        if self.sample_rate_input.as_deref() == Some(self.input.as_str()) {
            return e(
                "sampleRateInput",
                "an input other than the samples' input".into(),
                format!("{:?}, the samples' input", self.input),
            );
        }
        Ok(())
    }

    /// Seconds of audio in `samples` samples at the model's rate.
    pub fn seconds(&self, samples: u64) -> f64 {
        samples as f64 / self.sample_rate as f64
    }
}

/// How an error names the audio a caller gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioName {
    /// A whole recording (`speechSegments(audio)`).
    Audio,
    /// The `n`th chunk given to a session (counted from 0 since it started or was reset).
    Chunk(u64),
}

impl std::fmt::Display for AudioName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AudioName::Audio => f.write_str("audio"),
            AudioName::Chunk(n) => write!(f, "chunk {n}"),
        }
    }
}

/// What can go wrong with audio: samples, rates and files a caller gave, or the resampler.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AudioError {
    /// A sample rate that is not a whole number of Hz in [`RATES`].
    #[error("sampleRate is not a rate edgeserve takes: expected a whole number of Hz from {min} to {max}, got {rate}", min = RATES.0, max = RATES.1)]
    SampleRate { rate: f64 },
    /// A NaN or infinite sample.
    #[error("{at} has a sample that is not a finite number at index {index}: expected finite samples (nominally -1 to 1), got {value}")]
    NotFinite { at: AudioName, index: usize, value: f32 },
    /// No samples.
    #[error("{at} is empty: expected at least one sample, got none")]
    Empty { at: AudioName },
    /// More samples than one call takes.
    #[error("{at} is too long: expected at most {max} samples in one call (a session takes longer audio chunk by chunk), got {got}")]
    TooLong { at: AudioName, max: usize, got: usize },
    /// A frame of the wrong size where exactly one frame is asked for.
    #[error("{at} has the wrong number of samples: expected exactly {expected} (one frame at {rate} Hz), got {got}")]
    FrameSize { at: AudioName, expected: usize, rate: u32, got: usize },
    /// A WAV file that does not decode.
    #[error("the WAV file cannot be decoded: expected a RIFF WAVE file of PCM or float samples, got one that fails at byte {offset} or before: {detail}")]
    Wav { offset: u64, detail: String },
    /// The resampler refused the rates (a bug or an unusual pair of rates).
    #[error("audio cannot be resampled from {from} Hz to {to} Hz: {detail}")]
    Resample { from: u32, to: u32, detail: String },
}

impl AudioError {
    /// The core error: what the caller gave is `BAD_INPUT`; a resampler failure is `INFERENCE`.
    pub fn into_error(self, model: &str) -> Error {
        match self {
            AudioError::SampleRate { rate } => Error::bad_input(
                "sampleRate is not a rate edgeserve takes",
                format!("a whole number of Hz from {} to {}", RATES.0, RATES.1),
                rate.to_string(),
            ),
            AudioError::NotFinite { at, index, value } => Error::bad_input(
                format!("{at} has a sample that is not a finite number at index {index}"),
                "finite samples (nominally -1 to 1)",
                value.to_string(),
            ),
            AudioError::Empty { at } => Error::bad_input(format!("{at} is empty"), "at least one sample", "none"),
            AudioError::TooLong { at, max, got } => Error::bad_input(
                format!("{at} is too long"),
                format!("at most {max} samples in one call (a session takes longer audio chunk by chunk)"),
                got.to_string(),
            ),
            AudioError::FrameSize { at, expected, rate, got } => Error::bad_input(
                format!("{at} has the wrong number of samples"),
                format!("exactly {expected} (one frame at {rate} Hz)"),
                got.to_string(),
            ),
            AudioError::Wav { offset, detail } => Error::bad_input(
                "the WAV file cannot be decoded",
                "a RIFF WAVE file of PCM or float samples",
                format!("one that fails at byte {offset} or before: {detail}"),
            ),
            AudioError::Resample { .. } => Error::Inference { model: model.to_owned(), detail: self.to_string() },
        }
    }
}

/// A sample rate given as a number (JavaScript's are doubles): a whole number of Hz in [`RATES`].
pub fn sample_rate(rate: f64) -> Result<u32, AudioError> {
    let whole = rate.fract() == 0.0 && (RATES.0 as f64..=RATES.1 as f64).contains(&rate);
    if whole {
        Ok(rate as u32)
    } else {
        Err(AudioError::SampleRate { rate })
    }
}

/// Checks samples a caller gave: at least one, at most `max`, all finite.
pub fn check_samples(samples: &[f32], at: AudioName, max: usize) -> Result<(), AudioError> {
    if samples.is_empty() {
        return Err(AudioError::Empty { at });
    }
    if samples.len() > max {
        return Err(AudioError::TooLong { at, max, got: samples.len() });
    }
    match samples.iter().position(|s| !s.is_finite()) {
        Some(index) => Err(AudioError::NotFinite { at, index, value: samples[index] }),
        None => Ok(()),
    }
}

/// Audio decoded from a file: mono samples (channels averaged) and their rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// Channels in the file (averaged into `samples`).
    pub channels: u16,
}

/// Decodes a WAV file (RIFF WAVE: 8, 16, 24 or 32-bit integer PCM, or 32-bit float) into mono
/// samples, integers scaled to -1..1. A truncated file or a bad header is an
/// [`AudioError::Wav`]; a file longer than [`MAX_RECORDING_SAMPLES`] per channel is
/// [`AudioError::TooLong`], refused before its samples are read.
#[cfg(feature = "audio")]
pub fn decode_wav(bytes: &[u8]) -> Result<Decoded, AudioError> {
    let mut cursor = std::io::Cursor::new(bytes);
    let wav = |e: hound::Error, at: u64| AudioError::Wav { offset: at, detail: e.to_string() };
    let mut reader = hound::WavReader::new(&mut cursor).map_err(|e| wav(e, 0))?;
    let spec = reader.spec();
    let channels = spec.channels.max(1) as usize;
    let frames = reader.duration() as usize;
    if frames > MAX_RECORDING_SAMPLES {
        return Err(AudioError::TooLong { at: AudioName::Audio, max: MAX_RECORDING_SAMPLES, got: frames });
    }
    let mut interleaved = Vec::with_capacity(frames * channels);
    let header =
        (bytes.len() as u64).saturating_sub((frames * channels * spec.bits_per_sample.div_ceil(8) as usize) as u64);
    let offset = |i: usize| header + (i * spec.bits_per_sample.div_ceil(8) as usize) as u64;
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for (i, s) in reader.samples::<f32>().enumerate() {
                interleaved.push(s.map_err(|e| wav(e, offset(i)))?);
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            for (i, s) in reader.samples::<i32>().enumerate() {
                interleaved.push(s.map_err(|e| wav(e, offset(i)))? as f32 * scale);
            }
        }
    }
    if interleaved.len() < frames * channels {
        return Err(AudioError::Wav {
            offset: bytes.len() as u64,
            detail: format!(
                "the file ends after {} of the {} samples its header announces",
                interleaved.len(),
                frames * channels
            ),
        });
    }
    let samples = if channels == 1 {
        interleaved
    } else {
        interleaved.chunks_exact(channels).map(|f| f.iter().sum::<f32>() / channels as f32).collect()
    };
    if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
        return Err(AudioError::NotFinite { at: AudioName::Audio, index, value: samples[index] });
    }
    if samples.is_empty() {
        return Err(AudioError::Empty { at: AudioName::Audio });
    }
    Ok(Decoded { samples, sample_rate: spec.sample_rate, channels: spec.channels })
}

/// Streaming sample-rate conversion from a caller's rate to the model's: rubato's FFT
/// resampler (synchronous, anti-aliased), fed whatever lengths come, its delay trimmed so that
/// output sample `k` is at the time of input sample `k * from / to`. At equal rates samples pass
/// through untouched.
pub struct Resampler {
    from: u32,
    to: u32,
    /// None at equal rates.
    stage: Option<Stage>,
    /// Input samples taken and output samples given since the start.
    taken: u64,
    given: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler").field("from", &self.from).field("to", &self.to).finish_non_exhaustive()
    }
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz (both in [`RATES`]).
    pub fn new(from: u32, to: u32) -> Result<Resampler, AudioError> {
        let stage = if from == to { None } else { Some(Stage::new(from, to)?) };
        Ok(Resampler { from, to, stage, taken: 0, given: 0 })
    }

    /// The input rate, in Hz.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Resamples `input`, appending what is ready to `out` (the rest waits for more input or
    /// [`Resampler::finish`]).
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.taken += input.len() as u64;
        let before = out.len();
        match self.stage.as_mut() {
            Some(stage) => stage.push(input, out).map_err(|detail| self.error(detail))?,
            None => out.extend_from_slice(input),
        }
        self.given += (out.len() - before) as u64;
        Ok(())
    }

    /// Flushes the input still waiting (padded with silence) so that `out` gets every sample of
    /// the audio pushed so far: `ceil(input * to / from)` in all. The resampler then starts over.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let total = (self.taken as u128 * self.to as u128).div_ceil(self.from as u128) as u64;
        if let Some(stage) = self.stage.as_mut() {
            let wanted = (total - self.given.min(total)) as usize;
            stage.flush(wanted, out).map_err(|detail| self.error(detail))?;
        }
        self.reset();
        Ok(())
    }

    /// Forgets all input: the next sample pushed is the first of a new recording.
    pub fn reset(&mut self) {
        self.taken = 0;
        self.given = 0;
        if let Some(stage) = self.stage.as_mut() {
            stage.reset();
        }
    }

    fn error(&self, detail: String) -> AudioError {
        AudioError::Resample { from: self.from, to: self.to, detail }
    }
}

/// Input frames per call of the FFT resampler: a few hundred samples of delay at most.
#[cfg(feature = "audio")]
const RESAMPLER_CHUNK: usize = 1024;

/// rubato's resampler and its buffers (the `audio` feature).
#[cfg(feature = "audio")]
struct Stage {
    inner: rubato::Fft<f32>,
    /// Input not yet resampled (less than one chunk of the resampler).
    pending: Vec<f32>,
    /// The resampler's output, before the delay is trimmed.
    scratch: Vec<f32>,
    /// Output samples still to drop (the resampler's delay).
    to_trim: usize,
}

/// Without the `audio` feature there is no resampler: only audio at the model's rate.
#[cfg(not(feature = "audio"))]
enum Stage {}

#[cfg(not(feature = "audio"))]
impl Stage {
    fn new(from: u32, to: u32) -> Result<Stage, AudioError> {
        Err(AudioError::Resample { from, to, detail: "this build has no resampler (the `audio` feature)".into() })
    }
    fn push(&mut self, _: &[f32], _: &mut Vec<f32>) -> Result<(), String> {
        match *self {}
    }
    fn flush(&mut self, _: usize, _: &mut Vec<f32>) -> Result<(), String> {
        match *self {}
    }
    fn reset(&mut self) {
        match *self {}
    }
}

#[cfg(feature = "audio")]
impl Stage {
    fn new(from: u32, to: u32) -> Result<Stage, AudioError> {
        use rubato::Resampler as _;
        // One FFT block per chunk: the longest anti-aliasing filter, the cutoff nearest the lower
        // rate's Nyquist frequency.
        let inner = rubato::Fft::<f32>::new_custom(
            from as usize,
            to as usize,
            RESAMPLER_CHUNK,
            1,
            1,
            rubato::WindowFunction::BlackmanHarris2,
            rubato::FixedSync::Input,
        )
        .map_err(|e| AudioError::Resample { from, to, detail: e.to_string() })?;
        Ok(Stage {
            to_trim: inner.output_delay(),
            scratch: vec![0.0; inner.output_frames_max()],
            pending: vec![],
            inner,
        })
    }

    /// Resamples every whole chunk of the input waiting.
    fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        use rubato::Resampler as _;
        self.pending.extend_from_slice(input);
        let mut start = 0;
        while self.pending.len() - start >= self.inner.input_frames_next() {
            start += self.run(start, None, out)?;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Resamples what waits, then silence, until `wanted` more samples are out.
    fn flush(&mut self, wanted: usize, out: &mut Vec<f32>) -> Result<(), String> {
        let end = out.len() + wanted;
        let mut partial = Some(self.pending.len());
        while out.len() < end {
            self.run(0, partial, out)?;
            partial = Some(0);
        }
        out.truncate(end);
        Ok(())
    }

    fn reset(&mut self) {
        use rubato::Resampler as _;
        self.pending.clear();
        self.inner.reset();
        self.to_trim = self.inner.output_delay();
    }

    /// One call of the resampler on `pending[start..]` (or its first `partial` samples, the rest
    /// silence), its output appended to `out` once the delay is trimmed; returns the input
    /// samples it took.
    fn run(&mut self, start: usize, partial: Option<usize>, out: &mut Vec<f32>) -> Result<usize, String> {
        use rubato::audioadapter_buffers::direct::InterleavedSlice;
        use rubato::Resampler as _;
        let need = self.inner.input_frames_next();
        let frames = need.min(self.pending.len() - start);
        let input =
            InterleavedSlice::new(&self.pending[start..start + frames], 1, frames).map_err(|e| e.to_string())?;
        let out_frames = self.scratch.len();
        let mut output = InterleavedSlice::new_mut(&mut self.scratch, 1, out_frames).map_err(|e| e.to_string())?;
        let indexing =
            rubato::Indexing { partial_len: partial.or((frames < need).then_some(frames)), ..Default::default() };
        let (_, written) =
            self.inner.process_into_buffer(&input, &mut output, Some(&indexing)).map_err(|e| e.to_string())?;
        let skip = self.to_trim.min(written);
        self.to_trim -= skip;
        out.extend_from_slice(&self.scratch[skip..written]);
        Ok(frames)
    }
}

/// Cuts samples at the model's rate into the chunks its graph input takes: `context` samples of
/// the previous chunk (zeros before the first), then `frame` new ones.
#[derive(Debug, Clone)]
pub struct Framer {
    frame: usize,
    context: usize,
    /// From `start`: the last `context` samples of the previous chunk, then the samples waiting
    /// for a frame. What precedes `start` was framed, and is dropped when samples are pushed, so
    /// that taking a chunk moves no samples however many wait.
    buffer: Vec<f32>,
    start: usize,
}

impl Framer {
    /// A framer for `frame` new samples and `context` carried ones per chunk.
    pub fn new(frame: usize, context: usize) -> Framer {
        Framer { frame, context, buffer: vec![0.0; context], start: 0 }
    }

    /// Adds samples at the model's rate.
    pub fn push(&mut self, samples: &[f32]) {
        self.buffer.drain(..self.start);
        self.start = 0;
        self.buffer.extend_from_slice(samples);
    }

    /// The next whole chunk (`context + frame` samples), if enough samples are waiting.
    pub fn next_chunk(&mut self, chunk: &mut Vec<f32>) -> bool {
        chunk.clear();
        self.next_chunks(1, chunk) == 1
    }

    /// Appends up to `most` whole chunks (each `context + frame` samples, in order) to `chunks`;
    /// returns how many.
    pub fn next_chunks(&mut self, most: usize, chunks: &mut Vec<f32>) -> usize {
        let size = self.context + self.frame;
        let n = self.whole().min(most);
        chunks.reserve(n * size);
        for _ in 0..n {
            chunks.extend_from_slice(&self.buffer[self.start..self.start + size]);
            self.start += self.frame;
        }
        n
    }

    /// Whole chunks waiting.
    pub fn whole(&self) -> usize {
        self.waiting() / self.frame
    }

    /// New samples waiting for a frame.
    pub fn waiting(&self) -> usize {
        self.buffer.len() - self.start - self.context
    }

    /// The last chunk, its frame padded with zeros, when samples are waiting (as silero-vad pads
    /// the end of a recording); then the framer starts over.
    pub fn finish(&mut self, chunk: &mut Vec<f32>) -> bool {
        let waiting = self.waiting();
        if waiting > 0 {
            self.buffer.resize(self.start + self.context + self.frame, 0.0);
            self.next_chunk(chunk);
        }
        self.reset();
        waiting > 0
    }

    /// Starts over: the context is zeros again, nothing waits.
    pub fn reset(&mut self) {
        self.buffer.clear();
        self.buffer.resize(self.context, 0.0);
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_whole_hz_in_range() {
        assert_eq!(sample_rate(16000.0), Ok(16000));
        assert_eq!(sample_rate(44100.0), Ok(44100));
        for bad in [0.0, 999.0, 16000.5, f64::NAN, f64::INFINITY, -16000.0, 400_000.0] {
            assert!(sample_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn samples_are_checked_with_their_position() {
        assert_eq!(check_samples(&[], AudioName::Chunk(3), 10), Err(AudioError::Empty { at: AudioName::Chunk(3) }));
        let e = check_samples(&[0.0, 0.5, f32::NAN], AudioName::Audio, 10).unwrap_err();
        assert!(matches!(e, AudioError::NotFinite { index: 2, .. }), "{e:?}");
        let e = e.into_error("vad");
        assert_eq!(e.code(), "BAD_INPUT");
        assert!(e.to_string().contains("index 2"), "{e}");
        assert!(matches!(check_samples(&[0.0; 11], AudioName::Audio, 10), Err(AudioError::TooLong { got: 11, .. })));
    }

    #[test]
    fn the_framer_carries_context_and_pads_the_end() {
        let mut f = Framer::new(4, 2);
        let mut chunk = vec![];
        f.push(&[1.0, 2.0, 3.0]);
        assert!(!f.next_chunk(&mut chunk));
        f.push(&[4.0, 5.0, 6.0]);
        assert!(f.next_chunk(&mut chunk));
        assert_eq!(chunk, [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]);
        assert!(!f.next_chunk(&mut chunk));
        assert_eq!(f.waiting(), 2);
        assert!(f.finish(&mut chunk));
        assert_eq!(chunk, [3.0, 4.0, 5.0, 6.0, 0.0, 0.0]);
        assert!(!f.finish(&mut chunk));
    }

    /// Chunks taken several at a time are the chunks taken one at a time, and samples pushed
    /// after some were taken follow on.
    #[test]
    fn chunks_taken_together_are_those_taken_one_by_one() {
        let samples: Vec<f32> = (1..=23).map(|i| i as f32).collect();
        let (mut one, mut many) = (Framer::new(4, 2), Framer::new(4, 2));
        let (mut singly, mut chunk, mut together) = (vec![], vec![], vec![]);
        for piece in samples.chunks(7) {
            one.push(piece);
            while one.next_chunk(&mut chunk) {
                singly.extend_from_slice(&chunk);
            }
            many.push(piece);
            assert_eq!(many.whole(), many.waiting() / 4);
            let whole = many.whole();
            assert_eq!(many.next_chunks(2, &mut together), whole.min(2));
        }
        assert_eq!(many.next_chunks(9, &mut together), 0);
        assert_eq!(singly.len(), 5 * 6);
        assert_eq!(together, singly);
        assert_eq!((one.waiting(), many.waiting()), (3, 3));
        assert!(many.finish(&mut chunk));
        assert_eq!(chunk, [19.0, 20.0, 21.0, 22.0, 23.0, 0.0]);
    }

    #[cfg(feature = "audio")]
    fn sine(rate: u32, hz: f32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n).map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin() * 0.5).collect()
    }

    /// Resampling a sine keeps its frequency, phase and length, whatever the pieces it comes in.
    #[cfg(feature = "audio")]
    #[test]
    fn resampling_keeps_time_and_does_not_depend_on_chunking() {
        for (from, to) in [(48000, 16000), (44100, 16000), (8000, 16000), (22050, 16000)] {
            let input = sine(from, 440.0, 1.0);
            let mut whole = vec![];
            let mut r = Resampler::new(from, to).unwrap();
            r.push(&input, &mut whole).unwrap();
            r.finish(&mut whole).unwrap();
            assert_eq!(whole.len() as u64, (input.len() as u64 * to as u64).div_ceil(from as u64), "{from}->{to}");
            // Away from the edges, the output is a 440 Hz sine of the same amplitude, at most
            // half an input sample late or early (rubato's FFT filter is centred between
            // samples), and nothing else.
            let (mut sin, mut cos) = (0f64, 0f64);
            let core = 400..whole.len() - 400;
            let w = 2.0 * std::f64::consts::PI * 440.0 / to as f64;
            for i in core.clone() {
                sin += whole[i] as f64 * (w * i as f64).sin();
                cos += whole[i] as f64 * (w * i as f64).cos();
            }
            let n = core.len() as f64 / 2.0;
            let (a, b) = (sin / n, cos / n);
            let amplitude = (a * a + b * b).sqrt();
            let lag_s = -b.atan2(a) / (2.0 * std::f64::consts::PI * 440.0);
            assert!((amplitude - 0.5).abs() < 0.005, "{from}->{to}: amplitude {amplitude}");
            assert!(lag_s.abs() <= 0.5 / from as f64 + 1e-6, "{from}->{to}: {lag_s} s off");
            let residual = core
                .map(|i| (whole[i] as f64 - a * (w * i as f64).sin() - b * (w * i as f64).cos()).abs())
                .fold(0.0, f64::max);
            assert!(residual < 0.002, "{from}->{to}: residual {residual}");
            let mut pieces = vec![];
            let mut r = Resampler::new(from, to).unwrap();
            let mut at = 0;
            for (k, size) in [1usize, 7, 500, 333, 4096, 1].iter().cycle().enumerate() {
                if at >= input.len() || k > 10_000 {
                    break;
                }
                let end = (at + size).min(input.len());
                r.push(&input[at..end], &mut pieces).unwrap();
                at = end;
            }
            r.finish(&mut pieces).unwrap();
            assert_eq!(pieces, whole, "{from}->{to}");
        }
    }

    #[cfg(feature = "audio")]
    #[test]
    fn wav_files_decode_and_truncated_ones_are_refused() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut bytes = std::io::Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut bytes, spec).unwrap();
            for i in 0..100 {
                w.write_sample(i as i16 * 100).unwrap();
                w.write_sample(-(i as i16) * 100 + 16384).unwrap();
            }
            w.finalize().unwrap();
        }
        let bytes = bytes.into_inner();
        let d = decode_wav(&bytes).unwrap();
        assert_eq!((d.sample_rate, d.channels, d.samples.len()), (8000, 2, 100));
        assert!(d.samples.iter().all(|&s| (s - 0.25).abs() < 1e-6));
        let e = decode_wav(&bytes[..bytes.len() - 10]).unwrap_err();
        assert!(matches!(e, AudioError::Wav { .. }), "{e:?}");
        let e = decode_wav(b"RIFF....WAVEfmt ").unwrap_err();
        assert!(matches!(e, AudioError::Wav { .. }), "{e:?}");
        assert_eq!(e.into_error("vad").code(), "BAD_INPUT");
    }
}
