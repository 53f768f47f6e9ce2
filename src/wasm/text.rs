//! Text in, through the boundary: `model.embed(texts)` and `model.tokenize(text)`, and the
//! `tokenizer` option of `Model.fromBytes`. The rules for reading texts are written once here,
//! over the primitives of [`super::js`].

use serde::Serialize;

use super::js::{self, F32s, U32s};
use super::{Model, StringInput, TextInput, Thrown, Value};
use crate::error::Error;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

/// One text: a string with no lone surrogate, read whole (the tokenizer reads no more of it
/// than `maxLength` tokens need).
pub(crate) fn read_text(value: &Value, what: &dyn std::fmt::Display) -> Result<String, Error> {
    let text = js::string_arg(value, &what.to_string(), "a string", js::MAX_TEXT_UNITS)?;
    if let Some(at) = js::lone_surrogate(value) {
        return Err(Error::bad_input(
            format!("{what} has a lone surrogate at index {at}"),
            "well-formed text (every surrogate of a UTF-16 pair with its other half)",
            "half of a surrogate pair",
        ));
    }
    Ok(text)
}

/// A text or an array of texts: the texts, and whether one string was given (not an array).
/// An array longer than `max_texts` is refused before any item is read.
pub(crate) fn read_texts(value: &Value, max_texts: usize) -> Result<(Vec<String>, bool), Error> {
    if js::string_units(value).is_some() {
        return Ok((vec![read_text(value, &"text")?], true));
    }
    let Some(len) = js::array_len(value, &"texts")? else {
        return Err(Error::bad_input("texts are not text", "a string or an array of strings", js::describe(value)));
    };
    if len == 0 {
        return Err(Error::bad_input("texts is empty", "at least one text", "an empty array"));
    }
    if len > max_texts {
        return Err(Error::bad_input(
            "too many texts for one call",
            format!("at most {max_texts} (the package's preprocessing.maxTexts)"),
            len.to_string(),
        ));
    }
    let mut texts = Vec::with_capacity(len);
    for i in 0..len {
        let item = js::array_item(value, i, &"texts")?;
        texts.push(read_text(&item, &format_args!("texts[{i}]"))?);
    }
    Ok((texts, false))
}

/// `fromBytes`' `options.tokenizer`: bytes, or the JSON text.
#[allow(dead_code)] // natively the tokenizer comes as bytes
pub(crate) fn tokenizer_bytes(value: &Value) -> Result<Vec<u8>, Error> {
    if let Some(bytes) = js::bytes(value, "options.tokenizer")? {
        return Ok(bytes);
    }
    if js::string_units(value).is_some() {
        return Ok(read_text(value, &"options.tokenizer")?.into_bytes());
    }
    Err(Error::bad_input(
        "options.tokenizer is not a tokenizer.json",
        "a Uint8Array, an ArrayBuffer or a string",
        js::describe(value),
    ))
}

/// `embed()`'s result (`Embeddings` in the `.d.ts`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbeddingsJs<'a> {
    data: F32s<'a>,
    dim: usize,
    count: usize,
    latency_ms: f64,
}

/// `tokenize()`'s result (`Tokenized` in the `.d.ts`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenizedJs<'a> {
    ids: U32s<'a>,
    attention_mask: U32s<'a>,
    token_type_ids: U32s<'a>,
    tokens: &'a [String],
    offsets: U32s<'a>,
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    /// Embeds a text or an array of texts with a text model whose task is `embedding`: each text
    /// is tokenized by the package's tokenizer (truncated to its `maxLength` tokens), texts of
    /// similar length run through the graph together (at most 64 at once, each batch padded to
    /// its longest text), and the model's token states are pooled and normalised as the
    /// manifest's `embedding` says. Returns `{ data, dim, count, latencyMs }`: `data` holds
    /// `count x dim` float32 values, text after text in the order given; `latencyMs` is the
    /// call's time, in milliseconds.
    ///
    /// Throws `BAD_INPUT` for a value that is not a string or an array of strings, an empty
    /// array, a string with a lone surrogate (naming the text and the index), more texts than the
    /// package's `preprocessing.maxTexts`, or a model that embeds no text; the model keeps
    /// working.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "Embeddings"))]
    pub fn embed(&self, texts: TextInput) -> Result<Value, Thrown> {
        let max = self.shared.with(|m| m.max_texts())?;
        let (texts, _) = read_texts(value(&texts), max)?;
        let (embeddings, latency_ms) = self.shared.with(|m| m.embed(&texts))?;
        Ok(js::to_value(&EmbeddingsJs {
            data: F32s(&embeddings.data),
            dim: embeddings.dim,
            count: embeddings.rows,
            latency_ms,
        })?)
    }

    /// One text as the model sees it: `{ ids, attentionMask, tokenTypeIds, tokens, offsets }`,
    /// with the special tokens, truncated to the package's `maxLength`. `offsets` holds two
    /// values per token, its start and end in `text` in UTF-16 units (`text.slice(start, end)`),
    /// 0 and 0 for a special token. Throws `BAD_INPUT` for a value that is not a string, a lone
    /// surrogate, or a model that takes no text.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "Tokenized"))]
    pub fn tokenize(&self, text: StringInput) -> Result<Value, Thrown> {
        let text = read_text(string_value(&text), &"text")?;
        let tokens = self.shared.with(|m| m.tokenize(&text))?;
        let offsets: Vec<u32> = tokens.offsets.iter().flat_map(|&(s, e)| [s as u32, e as u32]).collect();
        Ok(js::to_value(&TokenizedJs {
            ids: U32s(&tokens.ids),
            attention_mask: U32s(&tokens.attention_mask),
            token_type_ids: U32s(&tokens.type_ids),
            tokens: &tokens.tokens,
            offsets: U32s(&offsets),
        })?)
    }
}

/// The value behind a `TextInput` argument.
#[cfg(target_family = "wasm")]
fn value(t: &TextInput) -> &Value {
    t.as_ref()
}
#[cfg(not(target_family = "wasm"))]
fn value(t: &TextInput) -> &Value {
    t
}

/// The value behind a `StringInput` argument.
#[cfg(target_family = "wasm")]
fn string_value(t: &StringInput) -> &Value {
    t.as_ref()
}
#[cfg(not(target_family = "wasm"))]
fn string_value(t: &StringInput) -> &Value {
    t
}
