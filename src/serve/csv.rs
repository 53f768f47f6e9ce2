//! CSV in and out for batch serving: a table of raw features (with or without a header, with an
//! optional label column) becomes the rows of a batch; predictions become CSV text again.

use std::io::{Read, Write};

use crate::error::{Error, Result};
use crate::model::Predictions;

/// Which column holds the true labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelColumn {
    /// By header name.
    Name(String),
    /// By position, from 0.
    Index(usize),
}

/// A decoded CSV table.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// The feature cells, row after row (`rows * width` values).
    pub features: Vec<f32>,
    pub rows: usize,
    /// The label column's cells, when a label column was given.
    pub truth: Option<Vec<String>>,
    /// The header, when the first line is one.
    pub header: Option<Vec<String>>,
}

fn csv_error(what: String, expected: impl Into<String>, got: impl Into<String>) -> Error {
    Error::bad_input(what, expected, got)
}

/// Decodes CSV text whose rows hold `width` raw features (and a label column when
/// `label_column` names one). The first line is a header when any of its cells is not a number.
/// A UTF-8 byte order mark and CRLF line ends are accepted; blank lines are skipped. Errors name
/// the line and the column.
pub fn parse(text: &str, width: usize, label_column: Option<&LabelColumn>) -> Result<CsvTable> {
    let mut reader = CsvRows::new(text.as_bytes(), width, label_column);
    let mut table = reader.next_rows(usize::MAX)?;
    table.header = reader.header().map(<[String]>::to_vec);
    Ok(table)
}

/// A CSV table read a few rows at a time from any reader (a file of any size: only the rows
/// asked for are in memory), with the rules of [`parse`], which is built on it.
pub struct CsvRows<R: Read> {
    reader: csv::Reader<SkipBom<R>>,
    record: csv::StringRecord,
    width: usize,
    label_column: Option<LabelColumn>,
    label_at: Option<usize>,
    expected_cells: usize,
    header: Option<Vec<String>>,
    first: bool,
}

impl<R: Read> CsvRows<R> {
    /// A reader of rows of `width` raw features (and the label column, when given).
    pub fn new(reader: R, width: usize, label_column: Option<&LabelColumn>) -> CsvRows<R> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(SkipBom { inner: reader, checked: false, held: Vec::new(), skipped: 0 });
        CsvRows {
            reader,
            record: csv::StringRecord::new(),
            width,
            label_column: label_column.cloned(),
            label_at: None,
            expected_cells: width + usize::from(label_column.is_some()),
            header: None,
            first: true,
        }
    }

    /// The header, once the first line has been read and was one.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// The bytes read so far (for progress over a file), a byte order mark included.
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte() + self.reader.get_ref().skipped
    }

    /// The next rows, at most `max_rows` of them; none once the text is over.
    pub fn next_rows(&mut self, max_rows: usize) -> Result<CsvTable> {
        let mut features = Vec::new();
        let mut truth: Option<Vec<String>> = self.label_column.as_ref().map(|_| Vec::new());
        let mut rows = 0usize;
        while rows < max_rows {
            let more = self
                .reader
                .read_record(&mut self.record)
                .map_err(|e| csv_error("CSV text cannot be read".into(), "well-formed CSV", e.to_string()))?;
            if !more {
                break;
            }
            let record = &self.record;
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.iter().all(str::is_empty) {
                continue;
            }
            if self.first {
                self.first = false;
                let is_header = record.iter().any(|c| c.parse::<f32>().is_err());
                if is_header {
                    let names: Vec<String> = record.iter().map(str::to_owned).collect();
                    self.label_at = match &self.label_column {
                        Some(LabelColumn::Name(name)) => {
                            Some(names.iter().position(|n| n == name).ok_or_else(|| {
                                csv_error(
                                    format!("CSV label column {name:?} is not in the header"),
                                    format!("one of {names:?}"),
                                    "no such column",
                                )
                            })?)
                        }
                        Some(LabelColumn::Index(i)) => Some(*i),
                        None => None,
                    };
                    self.expected_cells = names.len();
                    check_width(self.expected_cells, self.width, self.label_at, line)?;
                    self.header = Some(names);
                    continue;
                }
                self.label_at = match &self.label_column {
                    Some(LabelColumn::Name(name)) => {
                        return Err(csv_error(
                            format!("CSV label column {name:?} cannot be found"),
                            "a header line naming the columns (or the label column given by its index)",
                            "a first line of numbers",
                        ))
                    }
                    Some(LabelColumn::Index(i)) => Some(*i),
                    None => None,
                };
                check_width(record.len(), self.width, self.label_at, line)?;
                self.expected_cells = record.len();
            }
            if record.len() != self.expected_cells {
                return Err(csv_error(
                    format!("CSV line {line} has the wrong number of cells"),
                    format!("{} cells, like the first line", self.expected_cells),
                    format!("{} cells", record.len()),
                ));
            }
            for (col, cell) in record.iter().enumerate() {
                if Some(col) == self.label_at {
                    if let Some(t) = truth.as_mut() {
                        t.push(cell.to_owned());
                    }
                    continue;
                }
                let value: f32 = cell.parse().map_err(|_| {
                    let column = self
                        .header
                        .as_ref()
                        .and_then(|h| h.get(col))
                        .map(|n| format!("column {n:?}"))
                        .unwrap_or(format!("column {}", col + 1));
                    csv_error(format!("CSV line {line}, {column} is not a number"), "a number", format!("{cell:?}"))
                })?;
                features.push(value);
            }
            rows += 1;
        }
        Ok(CsvTable { features, rows, truth, header: None })
    }
}

/// A reader that drops a UTF-8 byte order mark at the start of what it reads.
struct SkipBom<R> {
    inner: R,
    checked: bool,
    /// The first bytes read while looking for the mark, when they were not one.
    held: Vec<u8>,
    /// The bytes of the mark, when there was one.
    skipped: u64,
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let mut start = [0u8; 3];
            let mut got = 0;
            while got < 3 {
                match self.inner.read(&mut start[got..])? {
                    0 => break,
                    n => got += n,
                }
            }
            if start[..got] == [0xef, 0xbb, 0xbf] {
                self.skipped = 3;
            } else {
                self.held = start[..got].to_vec();
            }
        }
        if !self.held.is_empty() {
            let n = self.held.len().min(buf.len());
            buf[..n].copy_from_slice(&self.held[..n]);
            self.held.drain(..n);
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

fn check_width(cells: usize, width: usize, label_at: Option<usize>, line: u64) -> Result<()> {
    if let Some(at) = label_at {
        if at >= cells {
            return Err(csv_error(
                format!("CSV label column {} is past the end of line {line}", at + 1),
                format!("a column from 1 to {cells}"),
                (at + 1).to_string(),
            ));
        }
    }
    let features = cells - usize::from(label_at.is_some());
    if features != width {
        let label = if label_at.is_some() { " and the label column" } else { "" };
        return Err(csv_error(
            format!("CSV line {line} has the wrong number of feature columns"),
            format!("{width} features{label}"),
            format!("{features} features in {cells} cells"),
        ));
    }
    Ok(())
}

/// The share of rows whose predicted label equals the true one (cells compared as trimmed text;
/// a true label that is a number equal to the class index also counts, so `7.0` matches `7`).
pub fn accuracy(predictions: &Predictions, labels: &[String], truth: &[String]) -> Option<f64> {
    if truth.is_empty() || predictions.indices.len() != truth.len() {
        return None;
    }
    let right = predictions
        .indices
        .iter()
        .zip(truth)
        .filter(|(i, t)| {
            let predicted = labels.get(**i as usize).map(String::as_str).unwrap_or("");
            predicted == t.as_str() || t.parse::<f64>().is_ok_and(|v| predicted.parse::<f64>().is_ok_and(|p| p == v))
        })
        .count();
    Some(right as f64 / truth.len() as f64)
}

/// The predictions as CSV text: `row`, `truth` (when known), then `label`, `index` and one
/// `score_<label>` column per class for a classifier, or `value_<i>` columns for a regression.
pub fn to_csv(predictions: &Predictions, labels: &[String], truth: Option<&[String]>) -> Result<String> {
    let mut w = CsvWriter::new(Vec::new(), labels, truth.is_some());
    w.write(predictions, truth)?;
    String::from_utf8(w.finish()?).map_err(|e| write_error(e.to_string()))
}

fn write_error(detail: String) -> Error {
    Error::Inference { model: "(csv)".into(), detail }
}

/// Predictions written as CSV to any writer, a batch at a time, rows numbered on from one batch
/// to the next: the format of [`to_csv`], which is built on it.
pub struct CsvWriter<W: Write> {
    writer: csv::Writer<W>,
    labels: Vec<String>,
    with_truth: bool,
    header_written: bool,
    next_row: usize,
}

impl<W: Write> CsvWriter<W> {
    /// A writer for a model with these labels (none: a regression), with a `truth` column or not.
    pub fn new(writer: W, labels: &[String], with_truth: bool) -> CsvWriter<W> {
        CsvWriter {
            writer: csv::Writer::from_writer(writer),
            labels: labels.to_vec(),
            with_truth,
            header_written: false,
            next_row: 0,
        }
    }

    /// Writes the rows of one batch (the header first, before the first batch).
    pub fn write(&mut self, predictions: &Predictions, truth: Option<&[String]>) -> Result<()> {
        let write_err = |e: csv::Error| write_error(e.to_string());
        let per_row = predictions.values.len().checked_div(predictions.rows).unwrap_or(0);
        if !self.header_written {
            self.header_written = true;
            let mut header = vec!["row".to_owned()];
            if self.with_truth {
                header.push("truth".into());
            }
            if self.labels.is_empty() {
                header.extend((0..per_row).map(|i| format!("value_{i}")));
            } else {
                header.push("label".into());
                header.push("index".into());
                header.extend(self.labels.iter().map(|l| format!("score_{l}")));
            }
            self.writer.write_record(&header).map_err(write_err)?;
        }
        let k = self.labels.len();
        for row in 0..predictions.rows {
            let mut record = vec![(self.next_row + row).to_string()];
            if self.with_truth {
                record.push(truth.and_then(|t| t.get(row)).cloned().unwrap_or_default());
            }
            if self.labels.is_empty() {
                record.extend(predictions.values[row * per_row..(row + 1) * per_row].iter().map(|v| v.to_string()));
            } else {
                let index = predictions.indices[row];
                record.push(self.labels.get(index as usize).cloned().unwrap_or_default());
                record.push(index.to_string());
                record.extend(predictions.scores[row * k..(row + 1) * k].iter().map(|v| v.to_string()));
            }
            self.writer.write_record(&record).map_err(write_err)?;
        }
        self.next_row += predictions.rows;
        Ok(())
    }

    /// Flushes what is buffered and gives the writer back.
    pub fn finish(self) -> Result<W> {
        self.writer.into_inner().map_err(|e| write_error(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives one byte per read, as a slow pipe might.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn rows_read_a_few_at_a_time_equal_the_whole_table() {
        let text = "\u{feff}a,b,y\r\n1,2,x\n\n3,4,z\n5,6,x\n";
        let whole = parse(text, 2, Some(&LabelColumn::Name("y".into()))).unwrap();
        assert_eq!(whole.rows, 3);
        assert_eq!(whole.header.as_deref(), Some(&["a".to_owned(), "b".into(), "y".into()][..]));
        let mut reader = CsvRows::new(Trickle(text.as_bytes()), 2, Some(&LabelColumn::Name("y".into())));
        let (mut features, mut truth) = (Vec::new(), Vec::new());
        loop {
            let part = reader.next_rows(2).unwrap();
            if part.rows == 0 {
                break;
            }
            assert!(part.rows <= 2);
            features.extend(part.features);
            truth.extend(part.truth.unwrap());
        }
        assert_eq!(features, whole.features);
        assert_eq!(Some(truth), whole.truth);
        assert_eq!(reader.bytes_read(), text.len() as u64);
        // A bad cell far down is named by its line, as in one piece.
        let mut reader = CsvRows::new("1,2\n3,x\n".as_bytes(), 2, None);
        assert_eq!(reader.next_rows(1).unwrap().rows, 1);
        let err = reader.next_rows(1).unwrap_err().to_string();
        assert!(err.contains("CSV line 2, column 2 is not a number"), "{err}");
    }

    #[test]
    fn batches_written_one_after_another_equal_one_table() {
        let labels = vec!["a".to_owned(), "b".to_owned()];
        let p = Predictions { rows: 2, indices: vec![0, 1], scores: vec![0.9, 0.1, 0.2, 0.8], values: vec![] };
        let truth = vec!["a".to_owned(), "a".to_owned()];
        let mut w = CsvWriter::new(Vec::new(), &labels, true);
        w.write(&p, Some(&truth)).unwrap();
        w.write(&p, Some(&truth)).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "row,truth,label,index,score_a,score_b\n0,a,a,0,0.9,0.1\n1,a,b,1,0.2,0.8\n2,a,a,0,0.9,0.1\n3,a,b,1,0.2,0.8\n"
        );
        let mut both = Predictions { rows: 4, ..p.clone() };
        both.indices.extend(p.indices.clone());
        both.scores.extend(p.scores.clone());
        assert_eq!(to_csv(&both, &labels, Some(&[truth.clone(), truth].concat())).unwrap(), text);
    }
}
