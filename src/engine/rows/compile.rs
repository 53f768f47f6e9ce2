//! Compiles a tract graph into a [`RowProgram`] (the `tract` feature): see the parent module for
//! what a graph must be.

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::array::Gather;
use tract_nnef::tract_core::ops::binary::TypedBinOp;
use tract_nnef::tract_core::ops::cast::Cast;
use tract_nnef::tract_core::ops::change_axes::AxisOp;
use tract_nnef::tract_core::ops::einsum::EinSum;
use tract_nnef::tract_core::ops::element_wise::ElementWiseOp;
use tract_nnef::tract_core::ops::nn::{Reduce, Reducer, Softmax, SoftmaxKind};
use tract_nnef::tract_core::ops::source::TypedSource;

use super::*;
use crate::manifest::DType;

/// Integer values (class indices, labels) at most this far from 0 fit every integer type, so
/// casts between integer types leave them as they are.
const SMALL_INT: usize = 127;

impl Bin {
    fn from_name(name: &str) -> Option<Bin> {
        Some(match name {
            "Add" => Bin::Add,
            "Sub" => Bin::Sub,
            "Mul" => Bin::Mul,
            "Div" => Bin::Div,
            "Max" => Bin::Max,
            "Min" => Bin::Min,
            _ => return None,
        })
    }
}

impl Unary {
    fn from_name(name: &str) -> Option<Unary> {
        Some(match name {
            "Abs" => Unary::Abs,
            "Neg" => Unary::Neg,
            "Recip" => Unary::Recip,
            "Exp" => Unary::Exp,
            "Ln" => Unary::Ln,
            "Sqrt" => Unary::Sqrt,
            "Rsqrt" => Unary::Rsqrt,
            "Sigmoid" => Unary::Sigmoid,
            "Tanh" => Unary::Tanh,
            _ => return None,
        })
    }
}

/// A compilation step's result: the error says which part of the graph is no row program.
type Compiled<T> = std::result::Result<T, String>;

fn refuse<T>(why: impl Into<String>) -> Compiled<T> {
    Err(why.into())
}

struct Compiler<'m> {
    model: &'m TypedModel,
    batch: Symbol,
    slots: Vec<Slot>,
    steps: Vec<Step>,
    /// The slot of each outlet that has one.
    of: HashMap<OutletId, usize>,
    /// Nodes of constants only (a cast of a weight, say), evaluated at compilation.
    folded: HashMap<OutletId, Arc<Tensor>>,
}

impl Compiler<'_> {
    /// The dimensions after the batch one of a row-shaped fact.
    fn row_dims(&self, fact: &TypedFact) -> Compiled<TVec<usize>> {
        let dims = fact.shape.dims();
        match dims.first() {
            Some(TDim::Sym(s)) if *s == self.batch => {}
            _ => return refuse(format!("a value of shape {:?} does not start with the batch symbol", fact.shape)),
        }
        dims[1..]
            .iter()
            .map(|d| {
                d.to_usize()
                    .map_err(|_| format!("a value of shape {:?} has a symbolic dimension after the batch", fact.shape))
            })
            .collect()
    }

    fn new_slot(&mut self, outlet: OutletId, kind: Kind, bound: Option<usize>) -> Compiled<usize> {
        let fact = self.model.outlet_fact(outlet).map_err(|e| e.to_string())?;
        let width = self.row_dims(fact)?.iter().product();
        if width == 0 {
            return refuse(format!("a value of shape {:?} has no numbers in a row", fact.shape));
        }
        self.slots.push(Slot { kind, width, bound });
        let id = self.slots.len() - 1;
        self.of.insert(outlet, id);
        Ok(id)
    }

    fn dims(&self, outlet: OutletId) -> Compiled<TVec<usize>> {
        self.row_dims(self.model.outlet_fact(outlet).map_err(|e| e.to_string())?)
    }

    fn konst(&self, outlet: OutletId) -> Option<Arc<Tensor>> {
        self.folded.get(&outlet).cloned().or_else(|| self.model.outlet_fact(outlet).ok().and_then(|f| f.konst.clone()))
    }

    fn slot(&self, outlet: OutletId) -> Compiled<usize> {
        self.of
            .get(&outlet)
            .copied()
            .ok_or_else(|| format!("{outlet:?} is neither a computed value nor a usable constant here"))
    }

    fn f32_slot(&self, outlet: OutletId) -> Compiled<usize> {
        let s = self.slot(outlet)?;
        if self.slots[s].kind != Kind::F32 {
            return refuse(format!("{outlet:?} is not f32"));
        }
        Ok(s)
    }

    fn kind_of(dt: DatumType) -> Option<Kind> {
        match dt {
            DatumType::F32 => Some(Kind::F32),
            DatumType::I64 | DatumType::I32 | DatumType::I16 | DatumType::I8 | DatumType::TDim => Some(Kind::I64),
            DatumType::U8 | DatumType::U16 | DatumType::U32 | DatumType::U64 => Some(Kind::I64),
            _ => None,
        }
    }

    /// An operand of a binary operation whose output has dimensions `out_dims` after the batch.
    fn operand(&self, outlet: OutletId, out_dims: &[usize]) -> Compiled<Operand> {
        if let Some(k) = self.konst(outlet) {
            if k.datum_type() != DatumType::F32 {
                return refuse("a non-f32 constant operand");
            }
            let values = k.cast_to::<f32>().map_err(|e| e.to_string())?;
            let values = plain::<f32>(&values).map_err(|e| e.to_string())?;
            let shape: Vec<usize> = k.shape().iter().copied().skip_while(|&d| d == 1).collect();
            if k.rank() > out_dims.len() + 1 {
                return refuse("a constant operand of higher rank than the result");
            }
            return if values.len() == 1 {
                Ok(Operand::Scalar(values[0]))
            } else if shape.len() <= out_dims.len()
                && shape == out_dims[out_dims.len() - shape.len()..]
                && shape.iter().product::<usize>() == out_dims.iter().product::<usize>()
            {
                Ok(Operand::Const(values.to_vec()))
            } else {
                refuse(format!("a constant operand of shape {:?} against rows of {out_dims:?}", k.shape()))
            };
        }
        let s = self.f32_slot(outlet)?;
        let dims = self.dims(outlet)?;
        if dims.as_slice() == out_dims {
            Ok(Operand::Row(s))
        } else if self.slots[s].width == 1 && dims.len() == out_dims.len() {
            Ok(Operand::PerRow(s))
        } else {
            refuse(format!("an operand of rows {dims:?} against rows of {out_dims:?}"))
        }
    }

    fn node(&mut self, id: usize) -> Compiled<()> {
        let node = &self.model.nodes[id];
        let out = OutletId::new(id, 0);
        if node.outputs.len() != 1 {
            return refuse(format!("node {} has {} outputs", node.name, node.outputs.len()));
        }
        let fact = &node.outputs[0].fact;
        if fact.konst.is_some() {
            return Ok(()); // a constant: operands read it where they need it
        }
        let konsts: Option<TVec<TValue>> =
            node.inputs.iter().map(|&i| self.konst(i).map(|t| t.into_tvalue())).collect();
        if let Some(konsts) = konsts.filter(|k| !k.is_empty()) {
            let value = eval_out_of_plan(node.op.as_ref(), konsts)?;
            self.folded.insert(out, Arc::new(value));
            return Ok(());
        }
        let input = |i: usize| node.inputs.get(i).copied().ok_or_else(|| format!("node {} lacks input {i}", node.name));
        let out_kind =
            Self::kind_of(fact.datum_type).ok_or_else(|| format!("node {} makes {:?}", node.name, fact.datum_type))?;
        let op = &node.op;

        if node.op_as::<TypedSource>().is_some() {
            if !self.slots.is_empty() || fact.datum_type != DatumType::F32 {
                return refuse("more than one input, or an input that is not f32");
            }
            self.new_slot(out, Kind::F32, None)?;
        } else if let Some(e) = node.op_as::<EinSum>() {
            let (x_outlet, w) = (input(0)?, input(1)?);
            let x = self.f32_slot(x_outlet)?;
            let w = self.konst(w).ok_or("a matrix product by a non-constant")?;
            let layout = matmul_layout(&e.axes.to_string());
            let (Some(layout), DatumType::F32, None, DatumType::F32, 2) =
                (layout, e.operating_dt, e.q_params, w.datum_type(), node.inputs.len())
            else {
                return refuse(format!(
                    "the matrix product {} ({:?} by {:?} {:?})",
                    e.axes,
                    e.operating_dt,
                    w.datum_type(),
                    w.shape()
                ));
            };
            let (k, n) = match (layout, w.shape()) {
                (Layout::KN, &[k, n]) => (k, n),
                (Layout::NK, &[n, k]) => (k, n),
                (Layout::K, &[k]) => (k, 1),
                _ => return refuse(format!("the matrix product {} by a constant of shape {:?}", e.axes, w.shape())),
            };
            if self.dims(x_outlet)?.as_slice() != [k] {
                return refuse("a matrix product whose rows do not match the matrix");
            }
            let w = plain::<f32>(&w).map_err(|e| e.to_string())?;
            let packed = pack(w, k, n, layout);
            let out = self.new_slot(out, Kind::F32, None)?;
            self.steps.push(Step::Dense { x, out, k, n, packed });
        } else if let Some(b) = node.op_as::<TypedBinOp>() {
            let bin = Bin::from_name(b.0.name()).ok_or_else(|| format!("the binary operation {}", b.0.name()))?;
            if fact.datum_type != DatumType::F32 || b.1.is_some_and(|dt| dt != DatumType::F32) {
                return refuse("a binary operation that is not f32");
            }
            let dims = self.row_dims(fact)?;
            let (a, b) = (self.operand(input(0)?, &dims)?, self.operand(input(1)?, &dims)?);
            if matches!((&a, &b), (Operand::Const(_) | Operand::Scalar(_), Operand::Const(_) | Operand::Scalar(_))) {
                return refuse("a binary operation of two constants");
            }
            let out = self.new_slot(out, Kind::F32, None)?;
            self.steps.push(Step::Binary { op: bin, a, b, out });
        } else if let Some(u) = node.op_as::<ElementWiseOp>() {
            let un =
                Unary::from_name(&u.0.name()).ok_or_else(|| format!("the element-wise operation {}", u.0.name()))?;
            if fact.datum_type != DatumType::F32 || u.1.is_some_and(|dt| dt != DatumType::F32) {
                return refuse("an element-wise operation that is not f32");
            }
            let x = self.f32_slot(input(0)?)?;
            let out = self.new_slot(out, Kind::F32, None)?;
            self.steps.push(Step::Unary { op: un, x, out });
        } else if let Some(s) = node.op_as::<Softmax>() {
            let x = self.f32_slot(input(0)?)?;
            let dims = self.dims(input(0)?)?;
            let rank = dims.len() + 1;
            if s.axes.as_slice() != [rank - 1]
                || s.quant_output_dt.is_some()
                || rank < 2
                || fact.datum_type != DatumType::F32
            {
                return refuse("a softmax over other than the last axis");
            }
            let axis = dims[rank - 2];
            let log = matches!(s.kind, SoftmaxKind::LogSoftmax);
            let out = self.new_slot(out, Kind::F32, None)?;
            self.steps.push(Step::Softmax { x, out, axis, log });
        } else if let Some(r) = node.op_as::<Reduce>() {
            let x = self.f32_slot(input(0)?)?;
            let rank = self.dims(input(0)?)?.len() + 1;
            if r.axes.iter().copied().collect::<Vec<_>>() != (1..rank).collect::<Vec<_>>() {
                return refuse("a reduction over other than every axis but the batch");
            }
            let width = self.slots[x].width;
            let (how, kind, bound) = match r.reducer {
                Reducer::Sum => (Reduction::Sum, Kind::F32, None),
                Reducer::Max => (Reduction::Max, Kind::F32, None),
                Reducer::Min => (Reduction::Min, Kind::F32, None),
                Reducer::Prod => (Reduction::Prod, Kind::F32, None),
                Reducer::ArgMax(last) => (Reduction::ArgMax { last }, Kind::I64, Some(width)),
                Reducer::ArgMin(last) => (Reduction::ArgMin { last }, Kind::I64, Some(width)),
                _ => return refuse(format!("the reduction {:?}", r.reducer)),
            };
            if kind != out_kind || width == 0 {
                return refuse("a reduction of unexpected type");
            }
            let out = self.new_slot(out, kind, bound)?;
            self.steps.push(Step::Reduce { x, out, how });
        } else if let Some(c) = node.op_as::<Cast>() {
            let x = self.slot(input(0)?)?;
            let (from, to) = (self.slots[x].kind, Self::kind_of(c.to).ok_or_else(|| format!("a cast to {:?}", c.to))?);
            let bound = self.slots[x].bound;
            match (from, to) {
                (Kind::F32, Kind::F32) => {
                    self.of.insert(out, x);
                }
                (Kind::I64, Kind::I64) if bound.is_some_and(|b| b <= SMALL_INT + 1) => {
                    self.of.insert(out, x);
                }
                (Kind::I64, Kind::I64) => return refuse("a cast between integer types of values that may not fit"),
                (Kind::I64, Kind::F32) => {
                    let out = self.new_slot(out, Kind::F32, None)?;
                    self.steps.push(Step::IntToF32 { x, out });
                }
                (Kind::F32, Kind::I64) => {
                    if c.to != DatumType::I64 {
                        return refuse(format!("a cast from f32 to {:?}", c.to));
                    }
                    let out = self.new_slot(out, Kind::I64, None)?;
                    self.steps.push(Step::F32ToInt { x, out });
                }
            }
        } else if let Some(a) = node.op_as::<AxisOp>() {
            let x = self.slot(input(0)?)?;
            let keeps_order = match a {
                AxisOp::Add(ax) | AxisOp::Rm(ax) => *ax >= 1,
                AxisOp::Reshape(at, _, _) => *at >= 1,
                AxisOp::Move(..) => false,
            };
            if !keeps_order || self.row_dims(fact)?.iter().product::<usize>() != self.slots[x].width {
                return refuse(format!("the axis change {a:?}"));
            }
            // The same numbers in the same order: the output reads the input's buffer.
            self.of.insert(out, x);
        } else if let Some(g) = node.op_as::<Gather>() {
            let table = self.konst(input(0)?).ok_or("a gather from a non-constant")?;
            let x = self.slot(input(1)?)?;
            if g.axis != 0
                || table.rank() != 1
                || self.slots[x].kind != Kind::I64
                || g.output_type.is_some_and(|dt| dt != table.datum_type())
            {
                return refuse("a gather other than from a constant vector by integer indices");
            }
            // Only indices known to be in the table (class indices): tract wraps negative ones.
            if self.slots[x].bound.is_none_or(|b| b > table.len()) {
                return refuse("a gather by indices that may fall outside the table");
            }
            let (table, bound) = Self::table(&table)?;
            let out = self.new_slot(out, out_kind, bound)?;
            self.steps.push(Step::Lookup { x, out, table });
        } else if op.name() == "DirectLookup" {
            // Class index -> label: tract's op evaluated once per possible index, into a table.
            let x = self.slot(input(0)?)?;
            let n = self.slots[x].bound.ok_or("a lookup of unbounded indices")?;
            let in_dt = self.model.outlet_fact(input(0)?).map_err(|e| e.to_string())?.datum_type;
            let indices = Tensor::from_shape(&[n], &(0..n as i64).collect::<Vec<_>>())
                .and_then(|t| t.cast_to_dt(in_dt).map(|t| t.into_owned()))
                .map_err(|e| e.to_string())?;
            let evaluated = eval_out_of_plan(op.as_ref(), tvec![indices.into_tvalue()])?;
            let (table, bound) = Self::table(&evaluated)?;
            let out = self.new_slot(out, out_kind, bound)?;
            self.steps.push(Step::Lookup { x, out, table });
        } else {
            return refuse(format!("the operation {} ({})", op.name(), node.name));
        }
        Ok(())
    }
}

/// A plain tensor's numbers.
fn plain<D: Datum>(t: &Tensor) -> TractResult<&[D]> {
    t.try_as_plain_ram()?.as_slice::<D>()
}

/// `op` evaluated on `inputs`, outside any plan.
fn eval_out_of_plan(op: &dyn TypedOp, inputs: TVec<TValue>) -> Compiled<Tensor> {
    match op.eval_out_of_plan(inputs) {
        Ok(Some(mut outputs)) if outputs.len() == 1 => Ok(outputs.remove(0).into_tensor()),
        Ok(_) => refuse(format!("{} has no single output outside a plan", op.name())),
        Err(e) => refuse(format!("{}: {e}", op.name())),
    }
}

/// The layout of the matrix when `axes` (an `EinSum`'s, as tract prints them) is a product of
/// `[m, k]` rows by a constant into `[m, n]`, whatever the letters.
fn matmul_layout(axes: &str) -> Option<Layout> {
    let (inputs, output) = axes.split_once("->")?;
    let (x, w) = inputs.split_once(',')?;
    let (x, w, o): (Vec<char>, Vec<char>, Vec<char>) =
        (x.chars().collect(), w.chars().collect(), output.chars().collect());
    let (&[m, k], &[om, n]) = (&x[..], &o[..]) else { return None };
    if om != m || m == k || n == k || n == m {
        return None;
    }
    match w[..] {
        [a, b] if a == k && b == n => Some(Layout::KN),
        [a, b] if a == n && b == k => Some(Layout::NK),
        [a] if a == k => Some(Layout::K),
        _ => None,
    }
}

impl Compiler<'_> {
    /// A constant table of numbers, and the bound of its entries when they are small
    /// non-negative integers.
    fn table(t: &Tensor) -> Compiled<(Table, Option<usize>)> {
        if t.datum_type() == DatumType::F32 {
            return Ok((Table::F32(plain::<f32>(t).map_err(|e| e.to_string())?.to_vec()), None));
        }
        if Self::kind_of(t.datum_type()).is_none() {
            return refuse(format!("a table of {:?}", t.datum_type()));
        }
        let ints = t.cast_to::<i64>().map_err(|e| e.to_string())?;
        let ints = plain::<i64>(&ints).map_err(|e| e.to_string())?.to_vec();
        let small = ints.iter().all(|&v| (0..=SMALL_INT as i64).contains(&v));
        let bound = small.then(|| ints.iter().max().map_or(0, |&m| m as usize + 1));
        Ok((Table::I64(ints), bound))
    }
}

/// Compiles `model` (typed, decluttered; one f32 input whose first dimension is `batch`),
/// or says which part of it is no row program.
pub fn compile(model: &TypedModel, batch: &str) -> Compiled<RowProgram> {
    let batch = model.symbols.get(batch).ok_or_else(|| format!("the graph has no symbol {batch}"))?;
    let inputs = model.input_outlets().map_err(|e| e.to_string())?;
    if inputs.len() != 1 {
        return refuse(format!("{} inputs", inputs.len()));
    }
    let mut c =
        Compiler { model, batch, slots: vec![], steps: vec![], of: HashMap::default(), folded: HashMap::default() };
    for id in model.eval_order().map_err(|e| e.to_string())? {
        c.node(id)?;
    }
    if c.slot(inputs[0])? != 0 {
        return refuse("the input is not the first value");
    }
    let input_dims = c.dims(inputs[0])?;
    let mut outputs = vec![];
    for &o in model.output_outlets().map_err(|e| e.to_string())? {
        let fact = model.outlet_fact(o).map_err(|e| e.to_string())?;
        let slot = c.slot(o)?;
        if Compiler::kind_of(fact.datum_type) != Some(c.slots[slot].kind) {
            return refuse(format!("an output of {:?} from a value of another kind", fact.datum_type));
        }
        let dtype = dtype_of(fact.datum_type).ok_or_else(|| format!("an output of {:?}", fact.datum_type))?;
        outputs.push(Output { slot, dtype, dims: c.dims(o)?.to_vec() });
    }
    let n = c.slots.len();
    Ok(RowProgram {
        slots: c.slots,
        steps: c.steps,
        input_dims: input_dims.to_vec(),
        outputs,
        f32s: vec![vec![]; n],
        i64s: vec![vec![]; n],
    })
}

/// The element type of an output of tract's type `dt`, when a row program makes it.
fn dtype_of(dt: DatumType) -> Option<DType> {
    Some(match dt {
        DatumType::F32 => DType::Float32,
        DatumType::I64 | DatumType::TDim => DType::Int64,
        DatumType::I32 => DType::Int32,
        DatumType::I16 => DType::Int16,
        DatumType::I8 => DType::Int8,
        DatumType::U8 => DType::Uint8,
        DatumType::U16 => DType::Uint16,
        DatumType::U32 => DType::Uint32,
        DatumType::U64 => DType::Uint64,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::tensor::Array;

    /// A deterministic spread of inputs (0..16 like the digits' pixels, and some far outside).
    fn inputs(rows: usize, width: usize, seed: u32) -> Array {
        let mut state = seed.wrapping_mul(2654435761).max(1);
        let data: Vec<f32> = (0..rows * width)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let unit = (state % 10_000) as f32 / 10_000.0;
                if i % 97 == 13 {
                    unit * 400.0 - 200.0
                } else {
                    unit * 16.0
                }
            })
            .collect();
        Array { shape: vec![rows, width], data: TensorData::F32(data) }
    }

    fn f32s(a: &Array) -> &[f32] {
        a.data.as_f32().unwrap()
    }

    /// Two runs' outputs: the same element types and shapes, the same integers, floats within
    /// rounding.
    fn same_outputs(ours: &[Array], tract: &[Array]) {
        assert_eq!(ours.len(), tract.len());
        for (i, (o, t)) in ours.iter().zip(tract).enumerate() {
            assert_eq!((o.data.dtype(), &o.shape), (t.data.dtype(), &t.shape), "output {i}");
            match (&o.data, &t.data) {
                (TensorData::F32(o), TensorData::F32(t)) => {
                    let worst = o.iter().zip(t).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max);
                    assert!(worst < 1e-5, "output {i} differs from tract's by {worst} (relative above 1)");
                }
                _ => assert_eq!(o.data.to_i64().unwrap(), t.data.to_i64().unwrap(), "output {i}"),
            }
        }
    }

    fn engine(name: &str) -> Engine {
        let dir = format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"));
        let nnef = std::fs::read(format!("{dir}/model.nnef.tar")).unwrap();
        Engine::load_nnef(name, &nnef, Some((vec!["X".into()], vec!["label".into(), "probabilities".into()]))).unwrap()
    }

    /// The row program's outputs against tract's plan's, on the same engine and inputs: same
    /// element types and shapes, the same integers, floats within rounding.
    fn same_as_tract(engine: &mut Engine, input: &Array) {
        engine.set_row_program(true).unwrap();
        let ours = engine.run_all(vec![input.clone()]).unwrap();
        engine.set_row_program(false).unwrap();
        let tract = engine.run_all(vec![input.clone()]).unwrap();
        engine.set_row_program(true).unwrap();
        same_outputs(&ours, &tract);
    }

    #[test]
    fn digits_packages_are_row_programs_that_match_tract() {
        for name in ["digits-fast", "digits-accurate"] {
            let mut e = engine(name);
            assert_eq!(e.row_program(), Ok(()), "{name}");
            // One row, a partial block, several blocks with a partial one, and no rows.
            for (i, rows) in [1, 5, BLOCK, 2 * BLOCK + 3, 0].into_iter().enumerate() {
                same_as_tract(&mut e, &inputs(rows, 64, i as u32 + 1));
            }
        }
    }

    /// The ONNX graphs of the test fixtures: a linear regression (`mk,k->mn`) is a row program
    /// that matches tract's plan; two inputs and a CNN are not row programs, and say why.
    #[cfg(feature = "onnx")]
    #[test]
    fn fixtures_are_row_programs_or_say_why_not() {
        let load = |f: &str| {
            Engine::load(f, &std::fs::read(format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap())
                .unwrap()
        };
        let mut ink = load("models/digits-ink/model.onnx");
        assert_eq!(ink.row_program(), Ok(()));
        for rows in [1, 70] {
            same_as_tract(&mut ink, &inputs(rows, 64, rows as u32));
        }
        let why = |f: &str| compile(load(f).plans.unwrap().typed.as_ref().unwrap(), "N").err().unwrap();
        assert_eq!(why("onnx/multi_io.onnx"), "2 inputs");
        assert!(why("onnx/pools.onnx").contains("MaxPool"), "{}", why("onnx/pools.onnx"));
    }

    /// A graph of every operation the row program has (not only the digits packages' ones),
    /// built with tract's ops: the program's outputs against tract's plan's.
    #[test]
    fn every_operation_matches_tract() {
        use tract_nnef::tract_core::ops::{math, nn};
        let mut m = TypedModel::default();
        let n = m.symbols.sym("N");
        let x = m.add_source("x", f32::fact(&[n.to_dim(), 8.to_dim()])).unwrap();
        let konst = |m: &mut TypedModel, name: &str, shape: &[usize], f: &dyn Fn(usize) -> f32| {
            let v: Vec<f32> = (0..shape.iter().product()).map(f).collect();
            m.add_const(name, Tensor::from_shape(shape, &v).unwrap()).unwrap()
        };
        let wire = |m: &mut TypedModel, name: &str, op: Box<dyn TypedOp>, inputs: &[OutletId]| {
            m.wire_node(name, op, inputs).unwrap()[0]
        };
        let w = konst(&mut m, "w", &[5, 8], &|i| (i as f32 * 0.37).sin());
        let d = wire(&mut m, "dense", Box::new(EinSum::new("mk,nk->mn".parse().unwrap(), DatumType::F32)), &[x, w]);
        let bias = konst(&mut m, "bias", &[1, 5], &|i| i as f32 * 0.1 - 0.2);
        let d = wire(&mut m, "bias_add", Box::new(math::add()), &[d, bias]);
        let t = wire(&mut m, "tanh", Box::new(math::tanh()), &[d]);
        let s = wire(&mut m, "sigmoid", Box::new(nn::sigmoid()), &[d]);
        let e = wire(&mut m, "sub", Box::new(math::sub()), &[t, s]);
        let a = wire(&mut m, "abs", Box::new(math::abs()), &[e]);
        let one = konst(&mut m, "one", &[1, 1], &|_| 1.0);
        let a1 = wire(&mut m, "plus_one", Box::new(math::add()), &[a, one]);
        let sq = wire(&mut m, "sqrt", Box::new(math::sqrt()), &[a1]);
        let rs = wire(&mut m, "rsqrt", Box::new(math::rsqrt()), &[a1]);
        let ng = wire(&mut m, "neg", Box::new(math::neg()), &[sq]);
        let ex = wire(&mut m, "exp", Box::new(math::exp()), &[ng]);
        let l = wire(&mut m, "ln", Box::new(math::ln()), &[a1]);
        let l = wire(&mut m, "mul", Box::new(math::mul()), &[l, rs]);
        let l = wire(&mut m, "sum_with_exp", Box::new(math::add()), &[l, ex]);
        let sum = wire(&mut m, "sum", Box::new(Reduce::new(tvec![1], Reducer::Sum)), &[l]);
        let rc = wire(&mut m, "recip", Box::new(math::recip()), &[sum]);
        let per_row = wire(&mut m, "per_row", Box::new(math::mul()), &[l, rc]);
        let dv = wire(&mut m, "div", Box::new(math::div()), &[one, a1]);
        let cap = konst(&mut m, "cap", &[1, 5], &|i| 0.2 + i as f32 * 0.15);
        let mn = wire(&mut m, "min", Box::new(math::min()), &[dv, cap]);
        let mx = wire(&mut m, "max", Box::new(math::max()), &[per_row, mn]);
        let ls = wire(&mut m, "log_softmax", Box::new(Softmax::new(tvec![1], None, SoftmaxKind::LogSoftmax)), &[mx]);
        let sm = wire(&mut m, "softmax", Box::new(Softmax::new(tvec![1], None, SoftmaxKind::Softmax)), &[d]);
        let am = wire(&mut m, "argmin", Box::new(Reduce::new(tvec![1], Reducer::ArgMin(true))), &[ls]);
        let amf = wire(&mut m, "argmin_f32", Box::new(tract_nnef::tract_core::ops::cast::cast(DatumType::F32)), &[am]);
        let table = konst(&mut m, "table", &[5], &|i| i as f32 * 10.0 + 0.5);
        let g = wire(&mut m, "gather", Box::new(Gather::new(0)), &[table, am]);
        let g = wire(&mut m, "squeeze", Box::new(AxisOp::Rm(1)), &[g]);
        let ten = konst(&mut m, "ten", &[1, 1], &|_| 10.0);
        let scaled = wire(&mut m, "scaled", Box::new(math::mul()), &[sm, ten]);
        let ints = wire(&mut m, "to_int", Box::new(tract_nnef::tract_core::ops::cast::cast(DatumType::I64)), &[scaled]);
        let mut outputs = vec![ls, amf, g, ints];
        for (name, r) in [
            ("max_r", Reducer::Max),
            ("min_r", Reducer::Min),
            ("prod_r", Reducer::Prod),
            ("argmax_r", Reducer::ArgMax(false)),
        ] {
            outputs.push(wire(&mut m, name, Box::new(Reduce::new(tvec![1], r)), &[d]));
        }
        m.select_output_outlets(&outputs).unwrap();
        let program = compile(&m, "N");
        let mut program = program.unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(
            program.steps.len(),
            m.nodes.len() - 8,
            "one step per node but the source, the 6 constants and the squeeze"
        );
        let plan = m.clone().into_optimized().unwrap().into_runnable().unwrap();
        for rows in [1, 3, BLOCK + 1] {
            let input = inputs(rows, 8, rows as u32);
            let ours = program.run(f32s(&input), rows).unwrap();
            let x = Tensor::from_shape(&input.shape, f32s(&input)).unwrap();
            let tract: Vec<Array> = plan
                .run(tvec![x.into_tvalue()])
                .unwrap()
                .iter()
                .map(|t| crate::engine::plans::from_tract(t).unwrap())
                .collect();
            same_outputs(&ours, &tract);
            // The same program read back from its rows form gives the same outputs.
            let io = |name: String| GraphIo { name, dtype: "float32".into(), shape: vec![Dim::Symbol("N".into())] };
            let outputs: Vec<GraphIo> = (0..ours.len()).map(|i| io(format!("y{i}"))).collect();
            let (_, _, mut read) = read(&write(&[io("x".into())], &outputs, &program).unwrap()).unwrap();
            assert_eq!(read.run(f32s(&input), rows).unwrap(), ours);
        }
    }

    #[test]
    fn other_inputs_go_to_tract() {
        let mut e = engine("digits-fast");
        let p = e.rows.as_ref().unwrap();
        assert!(!p.accepts(&[1, 63]));
        assert!(!p.accepts(&[64]));
        assert!(p.accepts(&[3, 64]));
        // f64 rows and short rows go to tract's plan, which answers with its own error.
        let err = e.run(&[0f32; 63], &[1, 63]).unwrap_err();
        assert!(err.to_string().contains("digits-fast"), "{err}");
        let f64_rows = Array { shape: vec![1, 64], data: TensorData::F64(vec![0.0; 64]) };
        assert!(e.run_all(vec![f64_rows]).is_err());
    }

    /// Both digits packages' rows forms: written and read back, they give what the compiled
    /// program gives, and the engine loaded from them has the graph's inputs and outputs.
    #[test]
    fn rows_forms_round_trip() {
        for name in ["digits-fast", "digits-accurate"] {
            let mut e = engine(name);
            let bytes = e.to_rows().unwrap();
            assert_eq!(e.to_rows().unwrap(), bytes, "{name}: the same bytes every time");
            let mut read = Engine::load_rows(name, &bytes).unwrap();
            assert_eq!((read.inputs(), read.outputs()), (e.inputs(), e.outputs()));
            assert!(read.row_program_on() && !read.has_plans());
            assert!(read.set_row_program(false).is_err());
            for rows in [0, 1, 7, BLOCK + 9] {
                let input = inputs(rows, 64, rows as u32 + 3);
                same_outputs(&read.run_all(vec![input.clone()]).unwrap(), &e.run_all(vec![input]).unwrap());
            }
        }
    }

    #[test]
    fn matmul_axes_are_recognized_whatever_the_letters() {
        assert_eq!(matmul_layout("mk,kn->mn"), Some(Layout::KN));
        assert_eq!(matmul_layout("ab,bc->ac"), Some(Layout::KN));
        assert_eq!(matmul_layout("mk,nk->mn"), Some(Layout::NK));
        assert_eq!(matmul_layout("mk,k->mn"), Some(Layout::K));
        assert_eq!(matmul_layout("mk,kn->nm"), None);
        assert_eq!(matmul_layout("bmk,kn->bmn"), None);
        assert_eq!(matmul_layout("mk,km->mm"), None);
        assert_eq!(matmul_layout("mk,k->m"), None);
        assert_eq!(matmul_layout("mk,kn"), None);
    }
}
