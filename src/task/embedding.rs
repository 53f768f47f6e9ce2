//! The embedding task: a graph's token states (or its sentence vectors) to one vector per text,
//! pooled and normalised as the package's `embedding` settings say (sentence-transformers'
//! `1_Pooling` and `2_Normalize` modules).

use serde::{Deserialize, Serialize};

/// The manifest's `embedding` settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmbeddingSettings {
    /// How token states become one vector per text.
    pub pooling: Pooling,
    /// Whether each vector is scaled to unit L2 norm (the norm clamped at 1e-12).
    #[serde(default)]
    pub normalize: bool,
}

/// How token states `[N, L, D]` become vectors `[N, D]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The mean of the states of the tokens whose attention mask is 1 (the count clamped at
    /// 1e-9, as sentence-transformers does).
    Mean,
    /// The state of the first token (`[CLS]`).
    Cls,
    /// None: the output is one vector per text already, `[N, D]`.
    None,
}

impl Pooling {
    /// The rank of the output this pooling takes: 3 (`[N, L, D]`) or 2 (`[N, D]`).
    pub fn output_rank(self) -> usize {
        match self {
            Pooling::Mean | Pooling::Cls => 3,
            Pooling::None => 2,
        }
    }
}

/// Vectors of `rows` texts, `dim` values each, row after row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    pub rows: usize,
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Embeddings {
    /// Row `r`.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.dim..(r + 1) * self.dim]
    }
}

/// Pools an output of shape `shape` (`[N, L, D]`, or `[N, D]` for [`Pooling::None`]) over the
/// attention mask `mask` (`N x L`, 1 for a token, 0 for padding), then normalises. An error
/// says how the output's shape does not fit.
pub fn pool(settings: EmbeddingSettings, data: &[f32], shape: &[usize], mask: &[i64]) -> Result<Embeddings, String> {
    let fits = shape.len() == settings.pooling.output_rank() && shape.iter().product::<usize>() == data.len();
    if !fits {
        return Err(format!(
            "the embedding output has shape {shape:?}, not [N, {}D] with {} values",
            if shape.len() == 3 { "L, " } else { "" },
            data.len()
        ));
    }
    let rows = shape[0];
    let dim = *shape.last().unwrap_or(&0);
    let mut out = Embeddings { rows, dim, data: Vec::with_capacity(rows * dim) };
    match settings.pooling {
        Pooling::None => out.data.extend_from_slice(data),
        Pooling::Cls => {
            let length = shape[1];
            for r in 0..rows {
                out.data.extend_from_slice(&data[r * length * dim..r * length * dim + dim]);
            }
        }
        Pooling::Mean => {
            let length = shape[1];
            if mask.len() != rows * length {
                return Err(format!(
                    "the attention mask has {} values for token states of shape {shape:?}",
                    mask.len()
                ));
            }
            let mut sum = vec![0f32; dim];
            for r in 0..rows {
                sum.fill(0.0);
                let mut count = 0f32;
                for t in 0..length {
                    if mask[r * length + t] != 0 {
                        count += 1.0;
                        let state = &data[(r * length + t) * dim..(r * length + t + 1) * dim];
                        sum.iter_mut().zip(state).for_each(|(s, x)| *s += x);
                    }
                }
                let count = count.max(1e-9);
                out.data.extend(sum.iter().map(|s| s / count));
            }
        }
    }
    if settings.normalize {
        for row in out.data.chunks_mut(dim.max(1)) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
    Ok(out)
}

/// Cosine similarity of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pooling_skips_padding_and_normalises() {
        // Two texts, 3 token slots, 2 dims; the second text has one token.
        let data = [1.0, 0.0, 3.0, 0.0, 9.0, 9.0, 0.0, 2.0, 7.0, 7.0, 7.0, 7.0];
        let mask = [1, 1, 0, 1, 0, 0];
        let mean =
            pool(EmbeddingSettings { pooling: Pooling::Mean, normalize: false }, &data, &[2, 3, 2], &mask).unwrap();
        assert_eq!(mean.data, vec![2.0, 0.0, 0.0, 2.0]);
        let unit =
            pool(EmbeddingSettings { pooling: Pooling::Mean, normalize: true }, &data, &[2, 3, 2], &mask).unwrap();
        assert_eq!(unit.data, vec![1.0, 0.0, 0.0, 1.0]);
        let cls =
            pool(EmbeddingSettings { pooling: Pooling::Cls, normalize: false }, &data, &[2, 3, 2], &mask).unwrap();
        assert_eq!(cls.data, vec![1.0, 0.0, 0.0, 2.0]);
        assert!(pool(EmbeddingSettings { pooling: Pooling::None, normalize: false }, &data, &[2, 3, 2], &mask).is_err());
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-6);
    }
}
