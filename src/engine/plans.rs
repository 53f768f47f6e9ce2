//! tract's side of the engine (the `tract` feature): a typed, decluttered graph and its
//! optimized plans, kept as reusable states per batch size so that no prediction re-plans; and
//! the conversion of edgeserve's [`Array`]s to and from tract's tensors.

use tract_nnef::internal::*;

use super::{load_error, PLANNABLE, TRACTABLE};
use crate::error::{Error, Result};
use crate::manifest::{Dim, GraphIo};
use crate::tensor::{Array, TensorData};

/// How many batch sizes get a plan optimized for their concrete size. Other sizes run on one
/// plan optimized for the symbolic batch size.
const CONCRETE_PLANS: usize = 4;

/// A typed graph and the plans made from it.
pub(super) struct Plans {
    /// Typed and decluttered, batch dimension still symbolic: the source of every plan.
    pub(super) typed: TypedModel,
    batch: Option<Symbol>,
    /// Plans (as reusable states) for concrete batch sizes, most recently used last.
    concrete: Vec<(usize, TypedSimpleState)>,
    /// The plan for any batch size, built when first needed.
    symbolic: Option<TypedSimpleState>,
}

impl Plans {
    /// Plans for `typed`, none built yet; `batch` names the batch symbol.
    pub(super) fn new(typed: TypedModel, batch: &str) -> Plans {
        let batch = typed.symbols.get(batch);
        Plans { typed, batch, concrete: vec![], symbolic: None }
    }

    /// The batch sizes with a plan of their own, least recently used first.
    pub(super) fn concrete_sizes(&self) -> Vec<usize> {
        self.concrete.iter().map(|(n, _)| *n).collect()
    }

    fn plan(model: &str, typed: TypedModel) -> Result<TypedSimpleState> {
        let plan = typed
            .into_optimized()
            .and_then(|mut m| super::specialize::specialize(&mut m).map(|()| m))
            .and_then(|m| m.into_runnable())
            .map_err(|e| load_error(model, "optimizing the graph", PLANNABLE, e))?;
        TypedSimpleState::new(&plan).map_err(|e| load_error(model, "preparing the plan's state", PLANNABLE, e))
    }

    fn symbolic_state(&mut self, model: &str) -> Result<&mut TypedSimpleState> {
        if self.symbolic.is_none() {
            self.symbolic = Some(Plans::plan(model, self.typed.clone())?);
        }
        self.symbolic.as_mut().ok_or_else(|| load_error(model, "planning", "a plan", "none"))
    }

    /// The plan for `batch` rows, built if needed.
    pub(super) fn state_for(&mut self, model: &str, batch: usize) -> Result<&mut TypedSimpleState> {
        let Some(sym) = self.batch.clone() else {
            // No batch symbol: the graph has fixed shapes and one plan.
            return self.symbolic_state(model);
        };
        if let Some(pos) = self.concrete.iter().position(|(n, _)| *n == batch) {
            let entry = self.concrete.remove(pos);
            self.concrete.push(entry);
        } else if batch == 1 || self.concrete.len() < CONCRETE_PLANS {
            let subs = std::iter::once((sym, TDim::Val(batch as i64))).collect();
            let fixed = self.typed.set_symbols(&subs).map_err(|e| load_error(model, "fixing the batch size", PLANNABLE, e))?;
            let state = Plans::plan(model, fixed)?;
            self.concrete.push((batch, state));
        } else {
            return self.symbolic_state(model);
        }
        match self.concrete.last_mut() {
            Some((_, state)) => Ok(state),
            None => Err(load_error(model, "planning", "a plan", "none")),
        }
    }

    /// Runs the plan for `batch` rows (`None`: the symbolic plan) on tract tensors.
    fn run_tensors(&mut self, model: &str, batch: Option<usize>, inputs: TVec<TValue>) -> Result<Vec<Array>> {
        let state = match batch {
            Some(n) => self.state_for(model, n)?,
            None => self.symbolic_state(model)?,
        };
        let outputs = state.run(inputs).map_err(|e| inference_error(model, e))?;
        outputs.iter().map(|t| from_tract(t).map_err(|e| inference_error(model, e))).collect()
    }

    /// Runs the graph on f32 rows `data` of shape `shape` (the batch size first).
    pub(super) fn run(&mut self, model: &str, data: &[f32], shape: &[usize]) -> Result<Vec<Array>> {
        let input = Tensor::from_shape(shape, data).map_err(|e| inference_error(model, e))?;
        self.run_tensors(model, Some(shape.first().copied().unwrap_or(1)), tvec![input.into_tvalue()])
    }

    /// Runs the graph on every input (in the graph's order); `batch` is the batch size when
    /// the first input's first dimension is the batch symbol.
    pub(super) fn run_all(&mut self, model: &str, batch: Option<usize>, inputs: Vec<Array>) -> Result<Vec<Array>> {
        let tensors = inputs.iter().map(|a| to_tract(a).map(IntoTValue::into_tvalue).map_err(|e| inference_error(model, e))).collect::<Result<_>>()?;
        self.run_tensors(model, batch, tensors)
    }
}

fn inference_error(model: &str, e: impl std::fmt::Display) -> Error {
    Error::Inference { model: model.to_owned(), detail: format!("{e:#}") }
}

fn to_tract(a: &Array) -> TractResult<Tensor> {
    match &a.data {
        TensorData::F32(v) => Tensor::from_shape(&a.shape, v),
        TensorData::F64(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I8(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I16(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I32(v) => Tensor::from_shape(&a.shape, v),
        TensorData::I64(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U8(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U16(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U32(v) => Tensor::from_shape(&a.shape, v),
        TensorData::U64(v) => Tensor::from_shape(&a.shape, v),
        TensorData::Bool(v) => Tensor::from_shape(&a.shape, v),
    }
}

/// A tract tensor as an [`Array`]: TDim (integers tract computes from shapes) as i64, f16 as f32.
pub(super) fn from_tract(t: &Tensor) -> TractResult<Array> {
    fn vec<T: Datum + Clone>(t: &Tensor) -> TractResult<Vec<T>> {
        t.try_as_plain_ram().and_then(|v| v.as_slice::<T>().map(<[T]>::to_vec))
    }
    let data = match t.datum_type() {
        DatumType::F32 => TensorData::F32(vec(t)?),
        DatumType::F64 => TensorData::F64(vec(t)?),
        DatumType::I8 => TensorData::I8(vec(t)?),
        DatumType::I16 => TensorData::I16(vec(t)?),
        DatumType::I32 => TensorData::I32(vec(t)?),
        DatumType::I64 => TensorData::I64(vec(t)?),
        DatumType::U8 => TensorData::U8(vec(t)?),
        DatumType::U16 => TensorData::U16(vec(t)?),
        DatumType::U32 => TensorData::U32(vec(t)?),
        DatumType::U64 => TensorData::U64(vec(t)?),
        DatumType::Bool => TensorData::Bool(vec(t)?),
        DatumType::TDim => TensorData::I64(vec(&*t.cast_to::<i64>()?)?),
        DatumType::F16 => TensorData::F32(vec(&*t.cast_to::<f32>()?)?),
        other => bail!("an output has element type {other:?}, which edgeserve cannot return"),
    };
    Ok(Array { shape: t.shape().to_vec(), data })
}

pub(super) fn dtype_name(dt: DatumType) -> String {
    match dt {
        DatumType::F32 => "float32".into(),
        DatumType::F64 => "float64".into(),
        DatumType::I8 => "int8".into(),
        DatumType::I16 => "int16".into(),
        DatumType::I32 => "int32".into(),
        // tract types integers computed from shapes (an ArgMax over classes, say) as TDim; they
        // are ONNX int64 tensors and come out as such.
        DatumType::I64 | DatumType::TDim => "int64".into(),
        DatumType::U8 => "uint8".into(),
        DatumType::U16 => "uint16".into(),
        DatumType::U32 => "uint32".into(),
        DatumType::U64 => "uint64".into(),
        DatumType::Bool => "bool".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn graph_io(model: &TypedModel, outlet: OutletId, name: String) -> TractResult<GraphIo> {
    let fact = model.outlet_fact(outlet)?;
    let shape = fact
        .shape
        .iter()
        .map(|d| match d.to_i64() {
            Ok(v) if v >= 0 => Dim::Fixed(v as u64),
            _ => Dim::Symbol(d.to_string()),
        })
        .collect();
    Ok(GraphIo { name, dtype: dtype_name(fact.datum_type), shape })
}

/// The typed graph's inputs and outputs as [`GraphIo`]s (dtypes and shapes from the graph),
/// named by `input_names` and `output_names` in the graph's order.
pub(super) fn graph_ios(model: &str, typed: &TypedModel, input_names: Vec<String>, output_names: Vec<String>) -> Result<(Vec<GraphIo>, Vec<GraphIo>)> {
    let io = |what: &str, outlets: TractResult<&[OutletId]>, names: Vec<String>| -> Result<Vec<GraphIo>> {
        let outlets = outlets.map_err(|e| load_error(model, &format!("reading {what}"), TRACTABLE, e))?;
        if outlets.len() != names.len() {
            return Err(load_error(model, &format!("reading {what}"), &format!("{} {what} (as named)", names.len()), format!("{} {what}", outlets.len())));
        }
        outlets
            .iter()
            .zip(names)
            .map(|(o, name)| graph_io(typed, *o, name).map_err(|e| load_error(model, "reading the graph's inputs and outputs", TRACTABLE, e)))
            .collect()
    };
    Ok((io("inputs", typed.input_outlets(), input_names)?, io("outputs", typed.output_outlets(), output_names)?))
}
