//! Tensors of any supported element type: what the engine takes and returns ([`Array`]), and
//! the named inputs and outputs of `model.run()` ([`NamedTensor`]), checked against the graph's.

use crate::error::{Error, Result};
use crate::manifest::{shape_string, DType, Dim, GraphIo};

/// The elements of a tensor, in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    Bool(Vec<bool>),
}

impl TensorData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::Float32,
            TensorData::F64(_) => DType::Float64,
            TensorData::I8(_) => DType::Int8,
            TensorData::I16(_) => DType::Int16,
            TensorData::I32(_) => DType::Int32,
            TensorData::I64(_) => DType::Int64,
            TensorData::U8(_) => DType::Uint8,
            TensorData::U16(_) => DType::Uint16,
            TensorData::U32(_) => DType::Uint32,
            TensorData::U64(_) => DType::Uint64,
            TensorData::Bool(_) => DType::Bool,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::I8(v) => v.len(),
            TensorData::I16(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::U16(v) => v.len(),
            TensorData::U32(v) => v.len(),
            TensorData::U64(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements when they are f32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match self {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The elements as i64 when they are integers (of any width); `None` for floats and bools.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        Some(match self {
            TensorData::I8(v) => v.iter().map(|&x| x.into()).collect(),
            TensorData::I16(v) => v.iter().map(|&x| x.into()).collect(),
            TensorData::I32(v) => v.iter().map(|&x| x.into()).collect(),
            TensorData::I64(v) => v.clone(),
            TensorData::U8(v) => v.iter().map(|&x| x.into()).collect(),
            TensorData::U16(v) => v.iter().map(|&x| x.into()).collect(),
            TensorData::U32(v) => v.iter().map(|&x| x.into()).collect(),
            TensorData::U64(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::F32(_) | TensorData::F64(_) | TensorData::Bool(_) => return None,
        })
    }
}

/// A tensor without a name: what the engine takes and returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// A named tensor: an input to or an output of `run()`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// Orders `given` as the graph's inputs and checks each one's dtype and shape against the
/// graph; errors name the input, what was expected and what came.
pub fn to_graph_inputs(graph: &[GraphIo], given: Vec<NamedTensor>) -> Result<Vec<Array>> {
    for g in &given {
        if !graph.iter().any(|i| i.name == g.name) {
            let names: Vec<&str> = graph.iter().map(|i| i.name.as_str()).collect();
            return Err(Error::bad_input(
                format!("input {:?} is not an input of the model", g.name),
                format!("inputs named {names:?}"),
                format!("{:?}", g.name),
            ));
        }
    }
    // A graph has few inputs: a scan of them costs less than hashing their names.
    let mut given: Vec<Option<NamedTensor>> = given.into_iter().map(Some).collect();
    graph
        .iter()
        .map(|input| {
            let t = given
                .iter_mut()
                .find(|t| t.as_ref().is_some_and(|t| t.name == input.name))
                .and_then(Option::take)
                .ok_or_else(|| {
                    Error::bad_input(
                        format!("input {:?} is missing", input.name),
                        format!("{} values of shape {}", input.dtype, shape_string(&input.shape)),
                        "nothing",
                    )
                })?;
            if t.data.dtype().as_str() != input.dtype {
                return Err(Error::bad_input(
                    format!("input {:?} has the wrong element type", input.name),
                    input.dtype.clone(),
                    t.data.dtype().to_string(),
                ));
            }
            let fits = t.shape.len() == input.shape.len()
                && t.shape.iter().zip(&input.shape).all(|(n, d)| match d {
                    Dim::Fixed(f) => *n as u64 == *f,
                    Dim::Symbol(_) => true,
                });
            if !fits {
                let got: Vec<String> = t.shape.iter().map(usize::to_string).collect();
                return Err(Error::bad_input(
                    format!("input {:?} has the wrong shape", input.name),
                    shape_string(&input.shape),
                    format!("[{}]", got.join(", ")),
                ));
            }
            // Checked: a shape given at run time may multiply past usize (32 bits in wasm).
            let elements = t.shape.iter().try_fold(1usize, |n, d| n.checked_mul(*d));
            if elements != Some(t.data.len()) {
                let expected = match elements {
                    Some(n) => format!("{n} values for shape {:?}", t.shape),
                    None => format!("a shape of at most {} values, not {:?}", usize::MAX, t.shape),
                };
                return Err(Error::bad_input(
                    format!("input {:?} does not fill its shape", input.name),
                    expected,
                    format!("{} values", t.data.len()),
                ));
            }
            Ok(Array { shape: t.shape, data: t.data })
        })
        .collect()
}

/// Names the outputs of a run as the graph does.
pub fn from_graph_outputs(graph: &[GraphIo], outputs: Vec<Array>) -> Vec<NamedTensor> {
    graph.iter().zip(outputs).map(|(g, a)| NamedTensor { name: g.name.clone(), shape: a.shape, data: a.data }).collect()
}
