//! JSON lines in and out for batch serving (the command line's `predict`): one input per line, a
//! JSON array of raw features (a row model) or a JSON string (a text model), read a few lines at
//! a time from any reader; one JSON object per prediction out, rows numbered from 0.

use std::io::{BufRead, Write};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Predictions;

/// What a batch of lines holds.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonLines {
    /// Rows of raw features laid end to end, and how many.
    Rows { features: Vec<f32>, rows: usize },
    /// Texts.
    Texts(Vec<String>),
}

impl JsonLines {
    /// How many inputs.
    pub fn len(&self) -> usize {
        match self {
            JsonLines::Rows { rows, .. } => *rows,
            JsonLines::Texts(texts) => texts.len(),
        }
    }

    /// Whether there are none (the input is over).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads JSON lines of rows of `width` raw features, or of texts (`width` None).
pub struct JsonLinesReader<R: BufRead> {
    reader: R,
    width: Option<usize>,
    line: u64,
    bytes: u64,
    buffer: String,
}

impl<R: BufRead> JsonLinesReader<R> {
    /// Rows of `width` numbers per line, or (`None`) one string per line.
    pub fn new(reader: R, width: Option<usize>) -> JsonLinesReader<R> {
        JsonLinesReader { reader, width, line: 0, bytes: 0, buffer: String::new() }
    }

    /// The bytes read so far (for progress over a file).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next inputs, at most `max` of them; none once the input is over. Blank lines are
    /// skipped; an error names the line.
    pub fn next_lines(&mut self, max: usize) -> Result<JsonLines> {
        let mut features = Vec::new();
        let mut texts = Vec::new();
        let mut count = 0;
        while count < max {
            self.buffer.clear();
            let n = self.reader.read_line(&mut self.buffer).map_err(|e| {
                Error::bad_input(format!("JSON line {} cannot be read", self.line + 1), "UTF-8 text", e.to_string())
            })?;
            if n == 0 {
                break;
            }
            self.line += 1;
            self.bytes += n as u64;
            let text = self.buffer.trim();
            if text.is_empty() {
                continue;
            }
            let line = self.line;
            match self.width {
                Some(width) => {
                    let row: Vec<f32> = serde_json::from_str(text).map_err(|e| {
                        Error::bad_input(
                            format!("JSON line {line} is not a row"),
                            format!("an array of {width} numbers"),
                            e.to_string(),
                        )
                    })?;
                    if row.len() != width {
                        return Err(Error::bad_input(
                            format!("JSON line {line} has the wrong number of values"),
                            format!("{width} raw features"),
                            format!("{} values", row.len()),
                        ));
                    }
                    features.extend(row);
                }
                None => {
                    let value: String = serde_json::from_str(text).map_err(|e| {
                        Error::bad_input(format!("JSON line {line} is not a text"), "a JSON string", e.to_string())
                    })?;
                    texts.push(value);
                }
            }
            count += 1;
        }
        Ok(match self.width {
            Some(_) => JsonLines::Rows { features, rows: count },
            None => JsonLines::Texts(texts),
        })
    }
}

/// One prediction as a JSON line.
#[derive(Serialize)]
#[serde(untagged)]
enum Line<'a> {
    Class { row: usize, label: &'a str, index: i32, scores: &'a [f32] },
    Values { row: usize, values: &'a [f32] },
}

/// Writes predictions as JSON lines, a batch at a time, rows numbered on from one batch to the
/// next: `{"row", "label", "index", "scores"}` for a classifier, `{"row", "values"}` otherwise.
pub struct JsonLinesWriter<W: Write> {
    writer: W,
    labels: Vec<String>,
    next_row: usize,
}

impl<W: Write> JsonLinesWriter<W> {
    /// A writer for a model with these labels (none: values).
    pub fn new(writer: W, labels: &[String]) -> JsonLinesWriter<W> {
        JsonLinesWriter { writer, labels: labels.to_vec(), next_row: 0 }
    }

    /// Writes the predictions of one batch.
    pub fn write(&mut self, predictions: &Predictions) -> Result<()> {
        let k = self.labels.len();
        let per_row = predictions.values.len().checked_div(predictions.rows).unwrap_or(0);
        for r in 0..predictions.rows {
            let row = self.next_row + r;
            let line = if k > 0 {
                let index = predictions.indices[r];
                let label = self.labels.get(index as usize).map(String::as_str).unwrap_or("");
                Line::Class { row, label, index, scores: &predictions.scores[r * k..(r + 1) * k] }
            } else {
                Line::Values { row, values: &predictions.values[r * per_row..(r + 1) * per_row] }
            };
            serde_json::to_writer(&mut self.writer, &line).map_err(|e| write_error(e.to_string()))?;
            self.writer.write_all(b"\n").map_err(|e| write_error(e.to_string()))?;
        }
        self.next_row += predictions.rows;
        Ok(())
    }

    /// Flushes and gives the writer back.
    pub fn finish(mut self) -> Result<W> {
        self.writer.flush().map_err(|e| write_error(e.to_string()))?;
        Ok(self.writer)
    }
}

fn write_error(detail: String) -> Error {
    Error::Inference { model: "(json lines)".into(), detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_texts_a_few_at_a_time_and_names_the_bad_line() {
        let text = "[1, 2]\n\n[3, 4.5]\n[5, 6]\n";
        let mut r = JsonLinesReader::new(text.as_bytes(), Some(2));
        assert_eq!(r.next_lines(2).unwrap(), JsonLines::Rows { features: vec![1.0, 2.0, 3.0, 4.5], rows: 2 });
        assert_eq!(r.next_lines(2).unwrap(), JsonLines::Rows { features: vec![5.0, 6.0], rows: 1 });
        assert!(r.next_lines(2).unwrap().is_empty());
        assert_eq!(r.bytes_read(), text.len() as u64);

        let err = JsonLinesReader::new("[1, 2]\n[1]\n".as_bytes(), Some(2)).next_lines(9).unwrap_err();
        assert!(err.to_string().contains("JSON line 2 has the wrong number of values"), "{err}");
        let err = JsonLinesReader::new("\"a\"\n3\n".as_bytes(), None).next_lines(9).unwrap_err();
        assert!(err.to_string().contains("JSON line 2 is not a text"), "{err}");
        let texts = JsonLinesReader::new("\"a\"\n\"b \\u00e9\"\n".as_bytes(), None).next_lines(9).unwrap();
        assert_eq!(texts, JsonLines::Texts(vec!["a".into(), "b é".into()]));
    }

    #[test]
    fn writes_classes_and_values_numbered_across_batches() {
        let labels = vec!["no".to_owned(), "yes".to_owned()];
        let mut w = JsonLinesWriter::new(Vec::new(), &labels);
        let p = Predictions { rows: 1, indices: vec![1], scores: vec![0.25, 0.75], values: vec![] };
        w.write(&p).unwrap();
        w.write(&p).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "{\"row\":0,\"label\":\"yes\",\"index\":1,\"scores\":[0.25,0.75]}\n{\"row\":1,\"label\":\"yes\",\"index\":1,\"scores\":[0.25,0.75]}\n"
        );
        let mut w = JsonLinesWriter::new(Vec::new(), &[]);
        w.write(&Predictions { rows: 2, indices: vec![], scores: vec![], values: vec![1.0, 2.0] }).unwrap();
        assert_eq!(
            String::from_utf8(w.finish().unwrap()).unwrap(),
            "{\"row\":0,\"values\":[1.0]}\n{\"row\":1,\"values\":[2.0]}\n"
        );
    }
}
