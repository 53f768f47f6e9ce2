//! CTC's greedy decoding of a recogniser's output (PaddleOCR's `CTCLabelDecode`): the most
//! probable class of each column; runs of one class counted once; the blank (class 0) dropped.
//! The line's score is the mean probability of the columns kept.

/// The characters of a recogniser: class 0 is CTC's blank, classes 1 to n the dictionary's lines,
/// class n + 1 a space (PaddleOCR's `use_space_char`).
#[derive(Debug, Clone, PartialEq)]
pub struct Characters {
    classes: Vec<String>,
}

impl Characters {
    /// From the dictionary's text: one character (or string) a line. Trailing `\r` are dropped.
    pub fn from_lines(text: &str) -> Characters {
        let mut classes = vec![String::new()];
        classes.extend(text.lines().map(|l| l.trim_end_matches('\r').to_owned()));
        classes.push(" ".into());
        Characters { classes }
    }

    /// The number of classes, blank and space included: the recogniser's last dimension.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Never: the blank and the space are always there.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// One line's text and score from its `columns x classes` probabilities, row after row.
pub fn decode(probabilities: &[f32], classes: usize, characters: &Characters) -> (String, f32) {
    let mut text = String::new();
    let mut sum = 0.0f64;
    let mut kept = 0usize;
    let mut previous = usize::MAX;
    for column in probabilities.chunks_exact(classes.max(1)) {
        let (best, p) = column
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |(bi, bp), (i, &p)| if p > bp { (i, p) } else { (bi, bp) });
        if best != 0 && best != previous {
            if let Some(c) = characters.classes.get(best) {
                text.push_str(c);
                sum += p as f64;
                kept += 1;
            }
        }
        previous = best;
    }
    let score = if kept == 0 { 0.0 } else { (sum / kept as f64) as f32 };
    (text, score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_count_once_and_blanks_split_them() {
        let characters = Characters::from_lines("a\nb");
        assert_eq!(characters.len(), 4);
        // columns: a a blank a b space
        let columns = [
            [0.1, 0.8, 0.1, 0.0],
            [0.1, 0.6, 0.3, 0.0],
            [0.9, 0.05, 0.05, 0.0],
            [0.2, 0.7, 0.1, 0.0],
            [0.0, 0.2, 0.5, 0.3],
            [0.1, 0.0, 0.0, 0.9],
        ];
        let flat: Vec<f32> = columns.iter().flatten().copied().collect();
        let (text, score) = decode(&flat, 4, &characters);
        assert_eq!(text, "aab ");
        assert!((score - (0.8 + 0.7 + 0.5 + 0.9) / 4.0).abs() < 1e-6, "{score}");
        assert_eq!(decode(&[1.0, 0.0, 0.0, 0.0], 4, &characters), (String::new(), 0.0));
    }
}
