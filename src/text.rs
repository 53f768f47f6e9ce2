//! Text in: the package's tokenizer (`tokenizer.json`, Hugging Face's format, run by the
//! `tokenizers` crate) turns strings into the graph's integer inputs, as the manifest's text
//! preprocessing says (maximum length, padding, which graph input gets the ids, the attention
//! mask and the token type ids).
//!
//! The manifest's part ([`TextPreprocessing`]) is plain data and parses in every build; the
//! tokenizer itself ([`TextInput`]) needs the `text` feature, and a build without it refuses a
//! text package with `MODEL_LOAD` when it loads.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The manifest's `preprocessing` of a text model (`"type": "text"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TextPreprocessing {
    /// The tokenizer file of the package and its sha256.
    pub tokenizer: TokenizerFile,
    /// The most tokens one text becomes, special tokens included; longer texts are truncated at
    /// the end (as the Python `tokenizers` package does with `enable_truncation(maxLength)`).
    pub max_length: usize,
    /// How the texts that run through the graph together are padded to one length: `"longest"`
    /// (the longest of them, default) or `"maxLength"` (always `maxLength`, for graphs with a
    /// fixed length). A call of many texts runs those of similar length together.
    #[serde(default)]
    pub padding: Padding,
    /// Which graph input gets what.
    pub inputs: TextInputNames,
    /// The most texts one call takes (default [`DEFAULT_MAX_TEXTS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_texts: Option<usize>,
}

/// The most texts one `embed()` or `predict()` of texts takes when the manifest sets no
/// `preprocessing.maxTexts`.
pub const DEFAULT_MAX_TEXTS: usize = 4096;

/// The most texts that run through the graph as one tensor: a call with more runs them in
/// several (a transformer's attention takes memory in the square of the length, for each text).
pub const TEXT_CHUNK: usize = 64;

/// What one more run of the graph costs, in padded tokens, when [`split_runs`] weighs fewer
/// runs against less padding: the fixed cost of a run (every operator once, whatever the
/// length) is about that of a few tokens.
pub const RUN_COST_TOKENS: usize = 8;

/// Splits texts of `lengths` tokens (each as padded alone) into runs of the graph, each padded
/// to its longest text: at most `most` texts a run, in as little work as can be, counted as the
/// padded tokens of every run plus `run_cost` a run. Texts of similar length then run together,
/// so that a short text is not padded to a long one's length. Returns the positions in
/// `lengths` of each run's texts, shortest first; equal lengths keep their order.
pub fn split_runs(lengths: &[usize], most: usize, run_cost: usize) -> Vec<Vec<usize>> {
    let most = most.max(1);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]); // stable
    let n = order.len();
    // best[k]: the least work for the k shortest texts; start[k]: where their last run starts.
    let mut best = vec![0usize; n + 1];
    let mut start = vec![0usize; n + 1];
    for k in 1..=n {
        let longest = lengths[order[k - 1]];
        best[k] = usize::MAX;
        for j in k.saturating_sub(most)..k {
            let work = best[j].saturating_add((k - j).saturating_mul(longest)).saturating_add(run_cost);
            if work < best[k] {
                best[k] = work;
                start[k] = j;
            }
        }
    }
    let mut runs = vec![];
    let mut k = n;
    while k > 0 {
        runs.push(order[start[k]..k].to_vec());
        k = start[k];
    }
    runs.reverse();
    runs
}

/// The most UTF-16 code units of one text that are tokenized: a text is truncated to `maxLength`
/// tokens anyway, and tokenizing a megabyte to keep its first 256 tokens would take seconds. A
/// text longer than this is cut at a character boundary before tokenizing; at no more than
/// 64 units per token (a WordPiece word is at most 100 characters, most are far shorter), what
/// is kept still fills `maxLength` tokens.
pub const fn tokenized_units(max_length: usize) -> usize {
    max_length.saturating_mul(64).saturating_add(1024)
}

/// A file of the package, by name and hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerFile {
    /// The file name in the package directory: `tokenizer.json`.
    pub file: String,
    /// sha256 of the file, lowercase hex.
    pub sha256: String,
}

/// How the texts of one call are padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Padding {
    #[default]
    Longest,
    MaxLength,
}

/// The graph inputs that get the token ids, the attention mask and the token type ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TextInputNames {
    pub ids: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_mask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type_ids: Option<String>,
}

impl TextPreprocessing {
    /// The most texts one call takes.
    pub fn max_texts(&self) -> usize {
        self.max_texts.unwrap_or(DEFAULT_MAX_TEXTS)
    }

    /// Checks the fields against each other (the graph is checked at load); (field, expected,
    /// found) of the first that is wrong.
    pub fn validate(&self) -> Result<(), (String, String, String)> {
        let e = |f: &str, x: &str, g: String| Err((f.to_owned(), x.to_owned(), g));
        if self.tokenizer.file != "tokenizer.json" {
            return e("tokenizer.file", "\"tokenizer.json\"", format!("{:?}", self.tokenizer.file));
        }
        if !crate::manifest::is_sha256(&self.tokenizer.sha256) {
            return e("tokenizer.sha256", "64 lowercase hexadecimal digits", format!("{:?}", self.tokenizer.sha256));
        }
        if !(2..=65_536).contains(&self.max_length) {
            return e("maxLength", "a whole number of tokens from 2 to 65536", self.max_length.to_string());
        }
        if self.max_texts == Some(0) {
            return e("maxTexts", "a whole number of texts, at least 1", "0".into());
        }
        let names: Vec<&String> =
            [Some(&self.inputs.ids), self.inputs.attention_mask.as_ref(), self.inputs.token_type_ids.as_ref()]
                .into_iter()
                .flatten()
                .collect();
        if let Some(i) = (1..names.len()).find(|&i| names[..i].contains(&names[i])) {
            return e(
                "inputs",
                "a different graph input for each of ids, attentionMask and tokenTypeIds",
                format!("{:?} twice", names[i]),
            );
        }
        Ok(())
    }

    /// The graph inputs this preprocessing feeds, in the order ids, mask, type ids.
    pub fn input_names(&self) -> Vec<&str> {
        [Some(self.inputs.ids.as_str()), self.inputs.attention_mask.as_deref(), self.inputs.token_type_ids.as_deref()]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// What can go wrong with text: the tokenizer of a package, or a text a caller gave.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TextError {
    /// `tokenizer.json` does not parse, or the tokenizer refuses the manifest's settings.
    #[error("its tokenizer.json cannot be used: expected a tokenizer in the format of Hugging Face's tokenizers, got one that fails: {detail}")]
    Tokenizer { detail: String },
    /// The tokenizer makes ids that the model's embedding table has no row for.
    #[error("its tokenizer.json does not fit the model: expected at most {model} tokens (the rows of the model's embedding table for input {input:?}), got a tokenizer of {tokenizer} tokens")]
    Vocabulary { input: String, tokenizer: usize, model: usize },
    /// A text package without its tokenizer.
    #[error("its tokenizer.json is missing: expected the tokenizer the manifest names (fromBytes: options.tokenizer), got none")]
    MissingTokenizer,
    /// This build has no tokenizer.
    #[error("it is a text model: expected a build of edgeserve with text support (the `text` feature), got a build without it")]
    NoTextFeature,
    /// The tokenizer failed on a text.
    #[error("{at} could not be tokenized: expected text the tokenizer takes, got an error: {detail}")]
    Encode { at: TextName, detail: String },
    /// A call with no texts, or with more than the package takes.
    #[error("{what}: expected {expected}, got {got}")]
    Count { what: &'static str, expected: String, got: usize },
}

/// How an error names a text: `text` for a single one, `texts[i]` in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextName {
    Text,
    Item(usize),
}

impl std::fmt::Display for TextName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextName::Text => f.write_str("text"),
            TextName::Item(i) => write!(f, "texts[{i}]"),
        }
    }
}

impl TextError {
    /// The core error, for model `model`: a tokenizer that cannot serve is `MODEL_LOAD`; a text
    /// or a count the caller gave is `BAD_INPUT`; a failure inside the tokenizer on a good text
    /// is `INFERENCE`.
    pub fn into_error(self, model: &str) -> Error {
        match self {
            TextError::Tokenizer { .. }
            | TextError::Vocabulary { .. }
            | TextError::MissingTokenizer
            | TextError::NoTextFeature => Error::ModelLoad { model: model.to_owned(), detail: self.to_string() },
            TextError::Encode { .. } => Error::Inference { model: model.to_owned(), detail: self.to_string() },
            TextError::Count { what, expected, got } => Error::bad_input(what, expected, got.to_string()),
        }
    }
}

/// One text as the tokenizer saw it: its tokens with their ids, masks and places in the text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tokens {
    pub ids: Vec<u32>,
    pub attention_mask: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub tokens: Vec<String>,
    /// `[start, end)` of each token in the text, in UTF-16 code units (JavaScript string
    /// indices); `(0, 0)` for special tokens.
    pub offsets: Vec<(usize, usize)>,
}

/// Many texts as the graph's inputs: `rows x length` ids, mask and type ids, padded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EncodedBatch {
    pub rows: usize,
    pub length: usize,
    pub ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub type_ids: Vec<i64>,
    /// The position of each row's text in the call's list.
    pub texts: Vec<usize>,
}

/// `text` cut to at most `units` UTF-16 code units, at a character boundary.
pub fn cut_to_units(text: &str, units: usize) -> &str {
    if text.len() <= units {
        return text; // a UTF-8 byte count bounds the UTF-16 unit count from above
    }
    let mut count = 0;
    for (at, c) in text.char_indices() {
        count += c.len_utf16();
        if count > units {
            return &text[..at];
        }
    }
    text
}

/// UTF-8 byte offsets of `text` to UTF-16 unit offsets: `map[b]` for every char boundary `b`.
#[cfg(any(test, feature = "text"))]
fn utf16_offsets(text: &str) -> Vec<usize> {
    let mut map = vec![0; text.len() + 1];
    let mut units = 0;
    for (at, c) in text.char_indices() {
        map[at..at + c.len_utf8()].fill(units);
        units += c.len_utf16();
    }
    map[text.len()] = units;
    map
}

/// A package's tokenizer set up as its manifest says.
#[cfg(feature = "text")]
pub struct TextInput {
    tokenizer: tokenizers::Tokenizer,
    config: TextPreprocessing,
    pad_id: u32,
    pad_type_id: u32,
}

#[cfg(feature = "text")]
impl std::fmt::Debug for TextInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextInput").field("config", &self.config).field("vocabulary", &self.vocabulary_size()).finish()
    }
}

#[cfg(feature = "text")]
impl TextInput {
    /// Reads `tokenizer.json` and sets it up: truncation to `maxLength` at the end; no padding
    /// per text (a call's texts are padded together, see [`TextInput::encode_batch`]), with the
    /// pad id and pad type id of the tokenizer's own padding settings (0 when it has none).
    pub fn new(json: &[u8], config: &TextPreprocessing) -> Result<TextInput, TextError> {
        use tokenizers::{TruncationDirection, TruncationParams, TruncationStrategy};
        let broken = |e: tokenizers::Error| TextError::Tokenizer { detail: e.to_string() };
        let mut tokenizer = tokenizers::Tokenizer::from_bytes(json).map_err(broken)?;
        let (pad_id, pad_type_id) = tokenizer.get_padding().map(|p| (p.pad_id, p.pad_type_id)).unwrap_or((0, 0));
        let truncation = TruncationParams {
            max_length: config.max_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        };
        tokenizer.with_truncation(Some(truncation)).map_err(broken)?;
        tokenizer.with_padding(None);
        let input = TextInput { tokenizer, config: config.clone(), pad_id, pad_type_id };
        if input.vocabulary_size() == 0 {
            return Err(TextError::Tokenizer { detail: "it has no tokens".into() });
        }
        Ok(input)
    }

    /// The number of token ids the tokenizer makes (its vocabulary and added tokens).
    pub fn vocabulary_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The preprocessing settings.
    pub fn config(&self) -> &TextPreprocessing {
        &self.config
    }

    /// Tokenizes one text (with the special tokens, truncated to `maxLength`).
    pub fn tokenize(&self, text: &str, at: TextName) -> Result<Tokens, TextError> {
        let text = cut_to_units(text, tokenized_units(self.config.max_length));
        let encoding =
            self.tokenizer.encode(text, true).map_err(|e| TextError::Encode { at, detail: e.to_string() })?;
        let units = utf16_offsets(text);
        let unit = |b: usize| units.get(b).copied().unwrap_or(units[units.len() - 1]);
        Ok(Tokens {
            ids: encoding.get_ids().to_vec(),
            attention_mask: encoding.get_attention_mask().to_vec(),
            type_ids: encoding.get_type_ids().to_vec(),
            tokens: encoding.get_tokens().to_vec(),
            offsets: encoding.get_offsets().iter().map(|&(s, e)| (unit(s), unit(e))).collect(),
        })
    }

    /// Checks the number of texts of one call: at least one, at most `maxTexts`.
    pub fn check_count(&self, n: usize) -> Result<(), TextError> {
        if n == 0 {
            return Err(TextError::Count { what: "texts", expected: "at least one text".into(), got: 0 });
        }
        if n > self.config.max_texts() {
            return Err(TextError::Count {
                what: "too many texts for one call",
                expected: format!("at most {} (the package's preprocessing.maxTexts)", self.config.max_texts()),
                got: n,
            });
        }
        Ok(())
    }

    /// Tokenizes `texts` into the graph's inputs as one run: each text truncated to `maxLength`
    /// tokens, all padded to the longest (or to `maxLength`) with the pad id, mask 0 and the pad
    /// type id. Errors name a text `texts[first + i]`; without `first`, a lone text is `text`.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S], first: Option<usize>) -> Result<EncodedBatch, TextError> {
        self.check_count(texts.len())?;
        let encodings = self.encode_all(texts, first)?;
        let all: Vec<usize> = (0..texts.len()).collect();
        Ok(self.pad(&encodings, &all))
    }

    /// Tokenizes `texts` into the graph's inputs as [`split_runs`] splits them: texts of similar
    /// length together, at most [`TEXT_CHUNK`] a run; each run as [`TextInput::encode_batch`]
    /// pads it, with the positions of its texts. With `padding: "maxLength"` every text has the
    /// same length, and the runs keep the texts' order.
    pub fn encode_runs<S: AsRef<str>>(
        &self,
        texts: &[S],
        first: Option<usize>,
    ) -> Result<Vec<EncodedBatch>, TextError> {
        self.check_count(texts.len())?;
        let encodings = self.encode_all(texts, first)?;
        let lengths: Vec<usize> = encodings.iter().map(|e| self.padded_length(e.get_ids().len())).collect();
        Ok(split_runs(&lengths, TEXT_CHUNK, RUN_COST_TOKENS).iter().map(|run| self.pad(&encodings, run)).collect())
    }

    fn encode_all<S: AsRef<str>>(
        &self,
        texts: &[S],
        first: Option<usize>,
    ) -> Result<Vec<tokenizers::Encoding>, TextError> {
        let units = tokenized_units(self.config.max_length);
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let at = match first {
                    None if texts.len() == 1 => TextName::Text,
                    first => TextName::Item(first.unwrap_or(0) + i),
                };
                // The graph needs no offsets: encode_fast skips them, the ids are the same.
                self.tokenizer
                    .encode_fast(cut_to_units(t.as_ref(), units), true)
                    .map_err(|e| TextError::Encode { at, detail: e.to_string() })
            })
            .collect()
    }

    /// The length a text of `tokens` tokens is padded to, alone.
    fn padded_length(&self, tokens: usize) -> usize {
        match self.config.padding {
            Padding::Longest => tokens.max(1),
            Padding::MaxLength => self.config.max_length,
        }
    }

    /// The texts at `positions` of `encodings` as one run, padded to the longest.
    fn pad(&self, encodings: &[tokenizers::Encoding], positions: &[usize]) -> EncodedBatch {
        let length = positions.iter().map(|&i| self.padded_length(encodings[i].get_ids().len())).max().unwrap_or(1);
        let mut batch =
            EncodedBatch { rows: positions.len(), length, texts: positions.to_vec(), ..EncodedBatch::default() };
        for e in positions.iter().map(|&i| &encodings[i]) {
            let pad = length - e.get_ids().len();
            batch.ids.extend(
                e.get_ids().iter().map(|&x| i64::from(x)).chain(std::iter::repeat_n(i64::from(self.pad_id), pad)),
            );
            batch
                .attention_mask
                .extend(e.get_attention_mask().iter().map(|&x| i64::from(x)).chain(std::iter::repeat_n(0, pad)));
            batch.type_ids.extend(
                e.get_type_ids()
                    .iter()
                    .map(|&x| i64::from(x))
                    .chain(std::iter::repeat_n(i64::from(self.pad_type_id), pad)),
            );
        }
        batch
    }
}

/// A package's tokenizer: in a build without the `text` feature, never made.
#[cfg(not(feature = "text"))]
#[derive(Debug)]
pub enum TextInput {}

#[cfg(not(feature = "text"))]
impl TextInput {
    /// Refuses: this build has no tokenizer.
    pub fn new(_json: &[u8], _config: &TextPreprocessing) -> Result<TextInput, TextError> {
        Err(TextError::NoTextFeature)
    }
    pub fn vocabulary_size(&self) -> usize {
        match *self {}
    }
    pub fn config(&self) -> &TextPreprocessing {
        match *self {}
    }
    pub fn tokenize(&self, _text: &str, _at: TextName) -> Result<Tokens, TextError> {
        match *self {}
    }
    pub fn encode_batch<S: AsRef<str>>(&self, _texts: &[S], _first: Option<usize>) -> Result<EncodedBatch, TextError> {
        match *self {}
    }
    pub fn encode_runs<S: AsRef<str>>(
        &self,
        _texts: &[S],
        _first: Option<usize>,
    ) -> Result<Vec<EncodedBatch>, TextError> {
        match *self {}
    }
    pub fn check_count(&self, _n: usize) -> Result<(), TextError> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_count_surrogate_pairs() {
        let map = utf16_offsets("aé😀b");
        // a: byte 0; é: bytes 1-2; 😀: bytes 3-6 (two UTF-16 units); b: byte 7
        assert_eq!(map[0], 0);
        assert_eq!(map[1], 1);
        assert_eq!(map[3], 2);
        assert_eq!(map[7], 4);
        assert_eq!(map[8], 5);
    }

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut_to_units("abc", 10), "abc");
        assert_eq!(cut_to_units("ab😀cd", 3), "ab");
        assert_eq!(cut_to_units("ab😀cd", 4), "ab😀");
    }

    #[cfg(feature = "text")]
    fn word_level() -> Vec<u8> {
        serde_json::json!({
            "version": "1.0",
            "truncation": null,
            "padding": { "strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": null, "pad_id": 1, "pad_type_id": 0, "pad_token": "[PAD]" },
            "added_tokens": [],
            "normalizer": { "type": "Lowercase" },
            "pre_tokenizer": { "type": "Whitespace" },
            "post_processor": null,
            "decoder": null,
            "model": { "type": "WordLevel", "vocab": { "[UNK]": 0, "[PAD]": 1, "hello": 2, "world": 3 }, "unk_token": "[UNK]" }
        })
        .to_string()
        .into_bytes()
    }

    #[cfg(feature = "text")]
    fn config(max_length: usize) -> TextPreprocessing {
        TextPreprocessing {
            tokenizer: TokenizerFile { file: "tokenizer.json".into(), sha256: "0".repeat(64) },
            max_length,
            padding: Padding::Longest,
            inputs: TextInputNames { ids: "ids".into(), attention_mask: Some("mask".into()), token_type_ids: None },
            max_texts: Some(3),
        }
    }

    #[cfg(feature = "text")]
    #[test]
    fn batches_pad_truncate_and_count() {
        let input = TextInput::new(&word_level(), &config(3)).unwrap();
        assert_eq!(input.vocabulary_size(), 4);
        let b = input.encode_batch(&["Hello world", "hello", "world hello hello hello"], None).unwrap();
        assert_eq!((b.rows, b.length), (3, 3));
        assert_eq!(b.ids, vec![2, 3, 1, 2, 1, 1, 3, 2, 2]);
        assert_eq!(b.attention_mask, vec![1, 1, 0, 1, 0, 0, 1, 1, 1]);
        let t = input.tokenize("Hi wörld", TextName::Text).unwrap();
        assert_eq!(t.ids, vec![0, 0]);
        assert_eq!(t.offsets, vec![(0, 2), (3, 8)]);
        let e = input.encode_batch::<&str>(&[], None).unwrap_err().into_error("m");
        assert_eq!(e.code(), "BAD_INPUT");
        let e = input.encode_batch(&["a", "b", "c", "d"], None).unwrap_err().into_error("m");
        assert_eq!(
            e.to_string(),
            "too many texts for one call: expected at most 3 (the package's preprocessing.maxTexts), got 4"
        );
    }

    #[test]
    fn runs_group_similar_lengths() {
        // Two lengths far apart: two runs, each padded to its own longest, not one padded to 40.
        let runs = split_runs(&[40, 9, 10, 41, 9], 64, 8);
        assert_eq!(runs, vec![vec![1, 4, 2], vec![0, 3]]);
        // Close lengths: one run beats paying for a second one.
        assert_eq!(split_runs(&[10, 11, 12], 64, 8), vec![vec![0, 1, 2]]);
        // At most `most` texts a run; equal lengths keep their order.
        assert_eq!(split_runs(&[5; 5], 2, 8), vec![vec![0], vec![1, 2], vec![3, 4]]);
        assert!(split_runs(&[], 64, 8).is_empty());
        // Every text in exactly one run, whatever the lengths.
        let lengths: Vec<usize> = (0..300).map(|i| (i * 37) % 128 + 1).collect();
        let mut seen: Vec<usize> =
            split_runs(&lengths, 64, 8).into_iter().inspect(|r| assert!(r.len() <= 64)).flatten().collect();
        seen.sort();
        assert_eq!(seen, (0..300).collect::<Vec<_>>());
    }

    #[cfg(feature = "text")]
    #[test]
    fn runs_pad_each_to_its_longest() {
        let input = TextInput::new(&word_level(), &TextPreprocessing { max_texts: Some(100), ..config(40) }).unwrap();
        let long = "hello ".repeat(30);
        let texts = ["world", long.as_str(), "hello", long.as_str()];
        let runs = input.encode_runs(&texts, None).unwrap();
        assert_eq!(
            runs.iter().map(|r| (r.texts.clone(), r.rows, r.length)).collect::<Vec<_>>(),
            [(vec![0, 2], 2, 1), (vec![1, 3], 2, 30)]
        );
        let alone = input.encode_batch(&["world", "hello"], None).unwrap();
        assert_eq!((runs[0].ids.clone(), runs[0].attention_mask.clone()), (alone.ids, alone.attention_mask));
        // maxLength padding: one length, the texts' own order.
        let fixed =
            TextInput::new(&word_level(), &TextPreprocessing { padding: Padding::MaxLength, ..config(40) }).unwrap();
        let runs = fixed.encode_runs(&["hello", "world hello", "world"], None).unwrap();
        assert_eq!(runs.iter().map(|r| (r.texts.clone(), r.length)).collect::<Vec<_>>(), [(vec![0, 1, 2], 40)]);
    }

    #[cfg(feature = "text")]
    #[test]
    fn broken_tokenizer_is_a_load_error() {
        let e = TextInput::new(b"{\"version\": 1", &config(8)).unwrap_err().into_error("m");
        assert_eq!(e.code(), "MODEL_LOAD");
        assert!(e.to_string().contains("tokenizer.json cannot be used"), "{e}");
    }

    #[test]
    fn validate_names_the_field() {
        let mut c = TextPreprocessing {
            tokenizer: TokenizerFile { file: "tokenizer.json".into(), sha256: "a".repeat(64) },
            max_length: 128,
            padding: Padding::Longest,
            inputs: TextInputNames { ids: "x".into(), attention_mask: Some("x".into()), token_type_ids: None },
            max_texts: None,
        };
        assert_eq!(c.validate().unwrap_err().0, "inputs");
        c.inputs.attention_mask = Some("m".into());
        assert!(c.validate().is_ok());
        c.max_length = 1;
        assert_eq!(c.validate().unwrap_err().0, "maxLength");
    }
}
