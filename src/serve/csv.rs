//! CSV in and out for batch serving: a table of raw features (with or without a header, with an
//! optional label column) becomes the rows of a batch; predictions become CSV text again.

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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut features = Vec::new();
    let mut truth: Option<Vec<String>> = label_column.map(|_| Vec::new());
    let mut header: Option<Vec<String>> = None;
    let mut label_at: Option<usize> = None;
    let mut expected_cells = width + usize::from(label_column.is_some());
    let mut rows = 0usize;

    let mut first = true;
    for record in reader.records() {
        let record =
            record.map_err(|e| csv_error("CSV text cannot be read".into(), "well-formed CSV", e.to_string()))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if first {
            first = false;
            let is_header = record.iter().any(|c| c.parse::<f32>().is_err());
            if is_header {
                let names: Vec<String> = record.iter().map(str::to_owned).collect();
                label_at = match label_column {
                    Some(LabelColumn::Name(name)) => Some(names.iter().position(|n| n == name).ok_or_else(|| {
                        csv_error(
                            format!("CSV label column {name:?} is not in the header"),
                            format!("one of {names:?}"),
                            "no such column",
                        )
                    })?),
                    Some(LabelColumn::Index(i)) => Some(*i),
                    None => None,
                };
                expected_cells = names.len();
                header = Some(names);
                check_width(expected_cells, width, label_at, line)?;
                continue;
            }
            label_at = match label_column {
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
            check_width(record.len(), width, label_at, line)?;
            expected_cells = record.len();
        }
        if record.len() != expected_cells {
            return Err(csv_error(
                format!("CSV line {line} has the wrong number of cells"),
                format!("{expected_cells} cells, like the first line"),
                format!("{} cells", record.len()),
            ));
        }
        for (col, cell) in record.iter().enumerate() {
            if Some(col) == label_at {
                if let Some(t) = truth.as_mut() {
                    t.push(cell.to_owned());
                }
                continue;
            }
            let value: f32 = cell.parse().map_err(|_| {
                let column = header
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
    Ok(CsvTable { features, rows, truth, header })
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
    let mut w = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| Error::Inference { model: "(csv)".into(), detail: e.to_string() };
    let mut header = vec!["row".to_owned()];
    if truth.is_some() {
        header.push("truth".into());
    }
    let per_row = predictions.values.len().checked_div(predictions.rows).unwrap_or(0);
    if labels.is_empty() {
        header.extend((0..per_row).map(|i| format!("value_{i}")));
    } else {
        header.push("label".into());
        header.push("index".into());
        header.extend(labels.iter().map(|l| format!("score_{l}")));
    }
    w.write_record(&header).map_err(write_err)?;
    let k = labels.len();
    for row in 0..predictions.rows {
        let mut record = vec![row.to_string()];
        if let Some(t) = truth {
            record.push(t.get(row).cloned().unwrap_or_default());
        }
        if labels.is_empty() {
            record.extend(predictions.values[row * per_row..(row + 1) * per_row].iter().map(|v| v.to_string()));
        } else {
            let index = predictions.indices[row];
            record.push(labels.get(index as usize).cloned().unwrap_or_default());
            record.push(index.to_string());
            record.extend(predictions.scores[row * k..(row + 1) * k].iter().map(|v| v.to_string()));
        }
        w.write_record(&record).map_err(write_err)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Inference { model: "(csv)".into(), detail: e.to_string() })?;
    String::from_utf8(bytes).map_err(|e| Error::Inference { model: "(csv)".into(), detail: e.to_string() })
}
