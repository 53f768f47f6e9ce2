//! The voice-activity task: a speech probability per frame of audio becomes speech segments.
//!
//! Two decoders, each with the behaviour of silero-vad's own Python utilities (6.2.3), written
//! here from their documented rules:
//! - [`segments`], for a whole recording, as `get_speech_timestamps` does: speech starts at the
//!   first frame at or above `threshold`, ends where the probability has stayed below
//!   `negThreshold` for `minSilenceMs`; segments shorter than `minSpeechMs` are dropped, segments
//!   longer than `maxSpeechS` are cut at their longest inner silence, and each is padded by
//!   `speechPadMs` (half the gap where two are closer than twice that);
//! - [`SpeechDetector`], for a stream, as `VADIterator` does: a start event when speech starts
//!   (padded back by `speechPadMs`), an end event once the silence after it is `minSilenceMs`
//!   long (padded forward), with no look-ahead, so events come as the audio does.
//!
//! Positions are in samples at the model's rate.

use serde::{Deserialize, Serialize};

use crate::manifest::{shape_string, DType, Dim, Manifest, Role};

/// The manifest's `voiceActivity` settings (silero-vad's defaults when absent); callers may
/// override each per call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoiceActivitySettings {
    /// A frame at or above this probability is speech.
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Within speech, a frame below this is silence; default `max(threshold - 0.15, 0.01)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neg_threshold: Option<f32>,
    /// Segments shorter than this are dropped, in ms.
    #[serde(default = "default_min_speech_ms")]
    pub min_speech_ms: f64,
    /// Silence that ends a segment, in ms.
    #[serde(default = "default_min_silence_ms")]
    pub min_silence_ms: f64,
    /// Padding added before and after each segment, in ms.
    #[serde(default = "default_speech_pad_ms")]
    pub speech_pad_ms: f64,
    /// Segments longer than this are split, in seconds (none: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_speech_s: Option<f64>,
}

fn default_threshold() -> f32 {
    0.5
}
fn default_min_speech_ms() -> f64 {
    250.0
}
fn default_min_silence_ms() -> f64 {
    100.0
}
fn default_speech_pad_ms() -> f64 {
    30.0
}

impl Default for VoiceActivitySettings {
    fn default() -> Self {
        VoiceActivitySettings {
            threshold: default_threshold(),
            neg_threshold: None,
            min_speech_ms: default_min_speech_ms(),
            min_silence_ms: default_min_silence_ms(),
            speech_pad_ms: default_speech_pad_ms(),
            max_speech_s: None,
        }
    }
}

/// Silence (ms) inside a segment that counts as a place to cut one longer than `maxSpeechS`.
const MIN_SILENCE_AT_MAX_SPEECH_MS: f64 = 98.0;

impl VoiceActivitySettings {
    /// The threshold below which speech becomes silence (in f64, as silero-vad computes the
    /// default, so that a probability on it falls on the same side).
    pub fn neg_threshold(&self) -> f64 {
        self.neg_threshold.map_or((self.threshold as f64 - 0.15).max(0.01), f64::from)
    }

    /// Checks the values, as (field, expected, found).
    pub fn validate(&self) -> Result<(), (String, String, String)> {
        let e = |f: &str, x: &str, g: String| Err((f.to_owned(), x.to_owned(), g));
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return e("threshold", "a probability above 0, at most 1", self.threshold.to_string());
        }
        if let Some(n) = self.neg_threshold {
            if !(n > 0.0 && n <= self.threshold) {
                return e("negThreshold", "a probability above 0, at most threshold", n.to_string());
            }
        }
        for (name, v) in [
            ("minSpeechMs", self.min_speech_ms),
            ("minSilenceMs", self.min_silence_ms),
            ("speechPadMs", self.speech_pad_ms),
        ] {
            if !(v.is_finite() && (0.0..=3_600_000.0).contains(&v)) {
                return e(name, "a duration in ms from 0 to 3600000", v.to_string());
            }
        }
        if let Some(m) = self.max_speech_s {
            if !(m.is_finite() && m > 0.0) {
                return e("maxSpeechS", "a duration in seconds above 0", m.to_string());
            }
        }
        Ok(())
    }
}

/// Speech from `start` to `end`, in samples at the model's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
}

/// The speech segments of a whole recording from the probability of each of its frames
/// (`frame` samples each at `rate` Hz; the recording is `length` samples long), as silero-vad's
/// `get_speech_timestamps` finds them.
pub fn segments(probs: &[f32], frame: usize, rate: u32, length: u64, s: &VoiceActivitySettings) -> Vec<Segment> {
    let per_ms = rate as f64 / 1000.0;
    let window = frame as f64;
    let min_speech = per_ms * s.min_speech_ms;
    let pad = per_ms * s.speech_pad_ms;
    let max_speech = s.max_speech_s.map_or(f64::INFINITY, |m| rate as f64 * m - window - 2.0 * pad);
    let min_silence = per_ms * s.min_silence_ms;
    let min_silence_at_max = per_ms * MIN_SILENCE_AT_MAX_SPEECH_MS;
    let neg = s.neg_threshold();

    let mut found: Vec<(i64, i64)> = vec![];
    let mut triggered = false;
    let mut start: Option<i64> = None; // the open segment's start
    let mut temp_end = 0i64;
    let (mut prev_end, mut next_start) = (0i64, 0i64);
    let mut possible_ends: Vec<(i64, i64)> = vec![];
    for (i, &p) in probs.iter().enumerate() {
        let sample = (i * frame) as i64;
        if p >= s.threshold && temp_end != 0 {
            let silence = sample - temp_end;
            if silence as f64 > min_silence_at_max {
                possible_ends.push((temp_end, silence));
            }
            temp_end = 0;
            if next_start < prev_end {
                next_start = sample;
            }
        }
        if p >= s.threshold && !triggered {
            triggered = true;
            start = Some(sample);
            continue;
        }
        if let (true, Some(open)) = (triggered, start) {
            if (sample - open) as f64 > max_speech {
                // Cut at the longest silence inside the segment, else where it stands.
                if let Some(&(end, silence)) = possible_ends.iter().rev().max_by_key(|(_, d)| *d) {
                    found.push((open, end));
                    next_start = end + silence;
                    start = None;
                    if next_start < end + sample {
                        start = Some(next_start);
                    } else {
                        triggered = false;
                    }
                } else {
                    found.push((open, sample));
                    start = None;
                    triggered = false;
                    prev_end = 0;
                    next_start = 0;
                    temp_end = 0;
                    possible_ends.clear();
                    continue;
                }
                prev_end = 0;
                next_start = 0;
                temp_end = 0;
                possible_ends.clear();
            }
        }
        if (p as f64) < neg && triggered {
            if temp_end == 0 {
                temp_end = sample;
            }
            if ((sample - temp_end) as f64) < min_silence {
                continue;
            }
            if let Some(open) = start.take() {
                if (temp_end - open) as f64 > min_speech {
                    found.push((open, temp_end));
                }
            }
            prev_end = 0;
            next_start = 0;
            temp_end = 0;
            triggered = false;
            possible_ends.clear();
        }
    }
    if let Some(open) = start {
        if (length as i64 - open) as f64 > min_speech {
            found.push((open, length as i64));
        }
    }
    pad_segments(&mut found, pad, length as i64);
    found.into_iter().map(|(a, b)| Segment { start: a.max(0) as u64, end: b.max(0) as u64 }).collect()
}

/// Pads every segment by `pad` samples each side, within the recording; two segments closer
/// than twice that share the gap between them.
fn pad_segments(found: &mut [(i64, i64)], pad: f64, length: i64) {
    let n = found.len();
    for i in 0..n {
        if i == 0 {
            found[0].0 = (found[0].0 as f64 - pad).max(0.0) as i64;
        }
        if i + 1 < n {
            let gap = found[i + 1].0 - found[i].1;
            if (gap as f64) < 2.0 * pad {
                found[i].1 += gap.div_euclid(2);
                found[i + 1].0 = (found[i + 1].0 - gap.div_euclid(2)).max(0);
            } else {
                found[i].1 = (found[i].1 as f64 + pad).min(length as f64) as i64;
                found[i + 1].0 = (found[i + 1].0 as f64 - pad).max(0.0) as i64;
            }
        } else {
            found[i].1 = (found[i].1 as f64 + pad).min(length as f64) as i64;
        }
    }
}

/// A start or end of speech, as a stream finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Edge {
    Start,
    End,
}

/// A speech event of a stream: where (in samples at the model's rate, padded) and found at which
/// frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechEvent {
    pub edge: Edge,
    pub sample: u64,
    pub frame: u64,
}

/// Speech start and end events over a stream of frame probabilities, as silero-vad's
/// `VADIterator` finds them (no look-ahead: an end comes `minSilenceMs` after the speech did).
#[derive(Debug, Clone)]
pub struct SpeechDetector {
    settings: VoiceActivitySettings,
    frame: u64,
    min_silence: f64,
    pad: f64,
    triggered: bool,
    temp_end: u64,
    /// Samples of the frames seen so far.
    seen: u64,
    frames: u64,
}

impl SpeechDetector {
    /// A detector for frames of `frame` samples at `rate` Hz.
    pub fn new(settings: VoiceActivitySettings, frame: usize, rate: u32) -> SpeechDetector {
        let per_ms = rate as f64 / 1000.0;
        SpeechDetector {
            settings,
            frame: frame as u64,
            min_silence: per_ms * settings.min_silence_ms,
            pad: per_ms * settings.speech_pad_ms,
            triggered: false,
            temp_end: 0,
            seen: 0,
            frames: 0,
        }
    }

    /// True while in speech.
    pub fn in_speech(&self) -> bool {
        self.triggered
    }

    /// Takes the next frame's probability; returns the event it makes, if any.
    pub fn push(&mut self, p: f32) -> Option<SpeechEvent> {
        self.seen += self.frame;
        let frame = self.frames;
        self.frames += 1;
        if p >= self.settings.threshold && self.temp_end != 0 {
            self.temp_end = 0;
        }
        if p >= self.settings.threshold && !self.triggered {
            self.triggered = true;
            let start = (self.seen as f64 - self.pad - self.frame as f64).max(0.0) as u64;
            return Some(SpeechEvent { edge: Edge::Start, sample: start, frame });
        }
        if (p as f64) < self.settings.neg_threshold() && self.triggered {
            if self.temp_end == 0 {
                self.temp_end = self.seen;
            }
            if ((self.seen - self.temp_end) as f64) < self.min_silence {
                return None;
            }
            let end = (self.temp_end as f64 + self.pad - self.frame as f64).max(0.0) as u64;
            self.temp_end = 0;
            self.triggered = false;
            return Some(SpeechEvent { edge: Edge::End, sample: end, frame });
        }
        None
    }

    /// Starts over (a new recording).
    pub fn reset(&mut self) {
        self.triggered = false;
        self.temp_end = 0;
        self.seen = 0;
        self.frames = 0;
    }
}

/// Checks a voice-activity manifest, as (field, expected, found): audio preprocessing, one
/// float32 output with role `"probability"` shaped `["N", 1]` or `["N"]`, every other output a state, no
/// labels, valid settings.
pub fn validate(manifest: &Manifest) -> Result<(), (String, String, String)> {
    let e = |f: &str, x: String, g: String| Err((f.to_owned(), x, g));
    if manifest.preprocessing.kind() != "audio" {
        return e(
            "preprocessing.type",
            "\"audio\" (task is voice-activity)".into(),
            format!("{:?}", manifest.preprocessing.kind()),
        );
    }
    if manifest.labels.is_some() {
        return e("labels", "no labels (task is voice-activity)".into(), "a list of labels".into());
    }
    let probabilities: Vec<usize> =
        (0..manifest.outputs.len()).filter(|&i| manifest.outputs[i].role == Some(Role::Probability)).collect();
    let [i] = probabilities[..] else {
        return e(
            "outputs",
            "exactly one output with role \"probability\" (task is voice-activity)".into(),
            probabilities.len().to_string(),
        );
    };
    let o = &manifest.outputs[i];
    let batch = Dim::Symbol(crate::manifest::BATCH_DIM.into());
    let shapes = [vec![batch.clone(), Dim::Fixed(1)], vec![batch]];
    if o.dtype != DType::Float32 || !shapes.contains(&o.shape) {
        return e(
            &format!("outputs[{i}]"),
            format!("float32 {} or {} (one probability per chunk)", shape_string(&shapes[0]), shape_string(&shapes[1])),
            format!("{} {}", o.dtype, shape_string(&o.shape)),
        );
    }
    if let Some((j, other)) =
        manifest.outputs.iter().enumerate().find(|(_, o)| !matches!(o.role, Some(Role::Probability | Role::State)))
    {
        return e(
            &format!("outputs[{j}].role"),
            "\"probability\" or \"state\" (task is voice-activity)".into(),
            format!("{:?}", other.role),
        );
    }
    manifest.voice_activity.unwrap_or_default().validate().map_err(|(f, x, g)| (format!("voiceActivity.{f}"), x, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of 512 samples at 16 kHz (32 ms): probabilities from a pattern of speech (1) and
    /// silence (0) frames.
    fn probs(pattern: &[(f32, usize)]) -> Vec<f32> {
        pattern.iter().flat_map(|&(p, n)| std::iter::repeat_n(p, n)).collect()
    }

    #[test]
    fn segments_are_found_padded_and_short_ones_dropped() {
        let s = VoiceActivitySettings::default();
        // 10 silent frames, 20 speech (640 ms), 10 silent (320 ms), 5 speech (160 ms: too short), 20 silent.
        let p = probs(&[(0.0, 10), (0.9, 20), (0.0, 10), (0.9, 5), (0.0, 20)]);
        let length = (p.len() * 512) as u64;
        let found = segments(&p, 512, 16000, length, &s);
        // Speech from frame 10 (5120) to the first silent frame (30 * 512 = 15360), padded by 480.
        assert_eq!(found, [Segment { start: 5120 - 480, end: 15360 + 480 }]);
    }

    #[test]
    fn short_silences_do_not_split_and_close_segments_share_their_gap() {
        let s = VoiceActivitySettings::default();
        // 4 silent frames (128 ms) inside speech: the silence is measured at silent frames, 96 ms
        // at the last one, under minSilenceMs: one segment.
        let p = probs(&[(0.9, 20), (0.0, 4), (0.9, 20), (0.0, 10)]);
        let found = segments(&p, 512, 16000, (p.len() * 512) as u64, &s);
        assert_eq!(found.len(), 1);
        // 5 silent frames: split at the first of them; the gap (2560 samples) is over twice the
        // pad (960).
        let p = probs(&[(0.9, 20), (0.0, 5), (0.9, 20), (0.0, 10)]);
        let found = segments(&p, 512, 16000, (p.len() * 512) as u64, &s);
        assert_eq!(found, [Segment { start: 0, end: 10240 + 480 }, Segment { start: 12800 - 480, end: 23040 + 480 }]);
        // With a pad of 100 ms the two would overlap: each takes half the gap.
        let padded = VoiceActivitySettings { speech_pad_ms: 100.0, ..s };
        let found = segments(&p, 512, 16000, (p.len() * 512) as u64, &padded);
        assert_eq!(found[0].end, 10240 + 1280);
        assert_eq!(found[1].start, 12800 - 1280);
    }

    #[test]
    fn hysteresis_keeps_speech_between_the_two_thresholds() {
        let s = VoiceActivitySettings::default();
        // 0.4 is under threshold (0.5) but over negThreshold (0.35): speech goes on.
        let p = probs(&[(0.9, 10), (0.4, 20), (0.9, 10), (0.0, 10)]);
        let found = segments(&p, 512, 16000, (p.len() * 512) as u64, &s);
        assert_eq!(found, [Segment { start: 0, end: 40 * 512 + 480 }]);
    }

    #[test]
    fn speech_at_the_end_runs_to_the_end() {
        let s = VoiceActivitySettings::default();
        let p = probs(&[(0.0, 5), (0.9, 30)]);
        let length = (p.len() * 512 - 100) as u64;
        assert_eq!(segments(&p, 512, 16000, length, &s), [Segment { start: 5 * 512 - 480, end: length }]);
        // (Segments over maxSpeechS, and everything else against silero-vad itself: tests/audio.rs.)
    }

    #[test]
    fn the_stream_detector_emits_padded_events_without_look_ahead() {
        let mut d = SpeechDetector::new(VoiceActivitySettings::default(), 512, 16000);
        let p = probs(&[(0.0, 10), (0.9, 20), (0.0, 10)]);
        let events: Vec<SpeechEvent> = p.iter().filter_map(|&x| d.push(x)).collect();
        // minSilenceMs 100 = 1600 samples: the end comes at the 5th silent frame (4 * 512 >= 1600).
        assert_eq!(
            events,
            [
                SpeechEvent { edge: Edge::Start, sample: 10 * 512 - 480, frame: 10 },
                SpeechEvent { edge: Edge::End, sample: 30 * 512 + 480, frame: 34 },
            ]
        );
        d.reset();
        assert!(!d.in_speech());
    }

    #[test]
    fn settings_are_checked() {
        assert!(VoiceActivitySettings::default().validate().is_ok());
        let bad = VoiceActivitySettings { threshold: 1.5, ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "threshold");
        let bad = VoiceActivitySettings { neg_threshold: Some(0.9), ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "negThreshold");
        let bad = VoiceActivitySettings { min_silence_ms: f64::NAN, ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "minSilenceMs");
    }
}
