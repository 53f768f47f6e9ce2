//! A row program: edgeserve's own executor for the small dense graphs that tabular models
//! (scikit-learn's linear models and MLPs through skl2onnx, and the like) become, where tract's
//! per-node cost is most of a prediction.
//!
//! A graph qualifies when every value in it is *row-shaped* (`[N, d1, ...]`, the batch symbol
//! first, the other dimensions fixed) and every node is one of: a dense layer (an `EinSum`
//! `mk,kn->mn`, `mk,nk->mn` or `mk,k->mn` by a constant f32 matrix, whatever the letters), an
//! element-wise f32 operation (`Add`, `Sub`, `Mul`, `Div`, `Max`, `Min` against a value or a
//! constant that is a scalar or a whole row; `Abs`, `Neg`, `Recip`, `Exp`, `Ln`, `Sqrt`, `Rsqrt`,
//! `Sigmoid`, `Tanh`), a softmax over the last axis, a reduction over every axis but the batch
//! (`Sum`, `Max`, `Min`, `Prod`, `ArgMax`, `ArgMin`), a cast, an axis change that keeps the batch
//! axis and the order within rows, a `Gather` from a constant table, or a lookup
//! (`DirectLookup`) of class indices. [`compile`] (the `tract` feature) turns such a tract graph
//! into a flat list of steps over per-value buffers, with the dense layers' matrices packed for
//! the kernel; any other graph gets an error that names the first part that is not covered, and
//! runs on tract's plans.
//!
//! A program is also a file: the *rows form* of a package (`model.rows`, [`write`] and [`read`],
//! serialized with serde and postcard), which a build without tract loads. [`read`] checks every
//! step's slots, widths and kinds before the program may run, so no bytes make it index out of
//! its buffers.
//!
//! The buffers live in the program and rows go through them in blocks of [`BLOCK`], so a batch
//! of any size needs the same memory, and once they have grown to a block a run allocates only
//! its output arrays, which each block writes into. Its outputs are tract's up to float
//! rounding (tested against tract's plan and, through the golden suites, against onnxruntime).

use serde::{Deserialize, Serialize};

use crate::manifest::{DType, Dim, GraphIo};
use crate::tensor::{Array, TensorData};

#[cfg(feature = "tract")]
pub mod compile;

/// Rows per block: every buffer holds at most this many rows.
pub const BLOCK: usize = 64;

/// Columns per block of a packed matrix: four 128-bit vectors of f32.
const LANES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Kind {
    F32,
    I64,
}

/// A value of the graph: `width` numbers per row.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slot {
    kind: Kind,
    width: usize,
    /// Integer values known to lie in `0..bound` (class indices and what is cast from them).
    bound: Option<usize>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

/// `exp` over a whole buffer, as a build registers it ([`register_exp`]); else `f32::exp`.
type Exp = Box<dyn Fn(&mut [f32]) -> bool + Send + Sync>;
static EXP: std::sync::OnceLock<Exp> = std::sync::OnceLock::new();

/// Registers a vectorized `exp` over a buffer (the full build's: tract's kernel for this host),
/// which returns whether it ran; the first registration stays.
pub fn register_exp(exp: Exp) {
    let _ = EXP.set(exp);
}

/// `x = exp(x)` for every number of `xs`: the registered kernel, else one by one.
fn exp_all(xs: &mut [f32]) {
    if !EXP.get().is_some_and(|exp| exp(xs)) {
        xs.iter_mut().for_each(|x| *x = x.exp());
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Unary {
    Abs,
    Neg,
    Recip,
    Exp,
    Ln,
    Sqrt,
    Rsqrt,
    Sigmoid,
    Tanh,
}

impl Unary {
    fn apply(self, xs: &mut [f32]) {
        match self {
            Unary::Abs => xs.iter_mut().for_each(|x| *x = x.abs()),
            Unary::Neg => xs.iter_mut().for_each(|x| *x = -*x),
            Unary::Recip => xs.iter_mut().for_each(|x| *x = 1.0 / *x),
            Unary::Exp => exp_all(xs),
            Unary::Ln => xs.iter_mut().for_each(|x| *x = x.ln()),
            Unary::Sqrt => xs.iter_mut().for_each(|x| *x = x.sqrt()),
            Unary::Rsqrt => xs.iter_mut().for_each(|x| *x = 1.0 / x.sqrt()),
            Unary::Sigmoid => {
                xs.iter_mut().for_each(|x| *x = -*x);
                exp_all(xs);
                xs.iter_mut().for_each(|x| *x = 1.0 / (1.0 + *x));
            }
            Unary::Tanh => xs.iter_mut().for_each(|x| *x = x.tanh()),
        }
    }
}

/// One side of a binary operation, per row: a value (a whole row, or one number per row) or a
/// constant (a whole row, or one number).
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Operand {
    Row(usize),
    PerRow(usize),
    Const(Vec<f32>),
    Scalar(f32),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Reduction {
    Sum,
    Max,
    Min,
    Prod,
    ArgMax { last: bool },
    ArgMin { last: bool },
}

/// A table indexed by an integer value: f32 or integer entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Table {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Step {
    /// `out = x · W`, W packed in blocks of [`LANES`] columns (`k` rows each, zero-padded).
    Dense {
        x: usize,
        out: usize,
        k: usize,
        n: usize,
        packed: Vec<f32>,
    },
    Binary {
        op: Bin,
        a: Operand,
        b: Operand,
        out: usize,
    },
    Unary {
        op: Unary,
        x: usize,
        out: usize,
    },
    /// Softmax (or log-softmax) over runs of `axis` numbers.
    Softmax {
        x: usize,
        out: usize,
        axis: usize,
        log: bool,
    },
    Reduce {
        x: usize,
        out: usize,
        how: Reduction,
    },
    IntToF32 {
        x: usize,
        out: usize,
    },
    F32ToInt {
        x: usize,
        out: usize,
    },
    /// `out = table[x]`; an index outside the table is an error.
    Lookup {
        x: usize,
        out: usize,
        table: Table,
    },
}

/// A graph compiled to steps over row buffers; see the module's documentation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowProgram {
    slots: Vec<Slot>,
    steps: Vec<Step>,
    /// The dimensions of the graph's input after the batch (its slot is 0).
    input_dims: Vec<usize>,
    /// The graph's outputs, in its order.
    outputs: Vec<Output>,
    /// Per-slot buffers of the current block (not part of the rows form).
    #[serde(skip)]
    f32s: Vec<Vec<f32>>,
    #[serde(skip)]
    i64s: Vec<Vec<i64>>,
}

impl RowProgram {
    /// Whether f32 rows of shape `shape` are what the program takes: the batch size, then the
    /// graph's input dimensions.
    pub fn accepts(&self, shape: &[usize]) -> bool {
        shape.len() == self.input_dims.len() + 1 && shape[1..] == self.input_dims[..]
    }

    /// Runs the program on `rows` rows laid end to end in `x` (f32 rows it
    /// [accepts](Self::accepts)) and returns every output of the graph, in its order, typed and
    /// shaped as tract's plan would return them.
    pub fn run(&mut self, x: &[f32], rows: usize) -> Result<Vec<Array>, String> {
        let width = self.slots[0].width;
        if Some(x.len()) != rows.checked_mul(width) {
            return Err(format!("expected {rows} rows of {width} numbers, got {} numbers", x.len()));
        }
        // The outputs are made whole first and each block is written into its rows.
        let mut results: Vec<Buffer> = self
            .outputs
            .iter()
            .map(|o| {
                let len = rows * self.slots[o.slot].width;
                match self.slots[o.slot].kind {
                    Kind::F32 => Buffer::F32(vec![0.0; len]),
                    Kind::I64 => Buffer::I64(vec![0; len]),
                }
            })
            .collect();
        for start in (0..rows).step_by(BLOCK) {
            let n = BLOCK.min(rows - start);
            let buf = &mut self.f32s[0];
            buf.clear();
            buf.extend_from_slice(&x[start * width..(start + n) * width]);
            for step in &self.steps {
                exec(step, n, &self.slots, &mut self.f32s, &mut self.i64s)?;
            }
            for (o, result) in self.outputs.iter().zip(&mut results) {
                let w = self.slots[o.slot].width;
                match result {
                    Buffer::F32(v) => v[start * w..][..n * w].copy_from_slice(&self.f32s[o.slot][..n * w]),
                    Buffer::I64(v) => v[start * w..][..n * w].copy_from_slice(&self.i64s[o.slot][..n * w]),
                }
            }
        }
        Ok(self
            .outputs
            .iter()
            .zip(results)
            .map(|(o, result)| Array {
                shape: std::iter::once(rows).chain(o.dims.iter().copied()).collect(),
                data: result.into_data(o.dtype),
            })
            .collect())
    }

    /// Checks what [`RowProgram::run`] relies on: every slot a step names exists and has the kind
    /// and width the step needs, is written before it is read, and is not the step's own
    /// output; matrices and constants have their sizes; outputs are written and typed as their
    /// slots. A compiled program passes by construction; a rows form read from bytes must.
    fn check(&self) -> Result<(), String> {
        let slot = |s: usize, kind: Kind| -> Result<usize, String> {
            match self.slots.get(s) {
                Some(slot) if slot.kind == kind && slot.width > 0 => Ok(slot.width),
                Some(slot) => Err(format!(
                    "slot {s} holds {} {:?} numbers per row where {kind:?} is read or written",
                    slot.width, slot.kind
                )),
                None => Err(format!("slot {s} of {}", self.slots.len())),
            }
        };
        // Products of sizes read from bytes may overflow: checked, an overflow matches nothing.
        let product = |dims: &[usize]| dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if product(&self.input_dims) != Some(slot(0, Kind::F32)?) {
            return Err(format!("an input of {:?} per row in a slot of {}", self.input_dims, self.slots[0].width));
        }
        let mut written = vec![false; self.slots.len()];
        written[0] = true;
        for (i, step) in self.steps.iter().enumerate() {
            let fail = |what: String| Err(format!("step {i} ({step:?}): {what}"));
            let (reads, out): (Vec<usize>, usize) = match step {
                Step::Dense { x, out, k, n, packed } => {
                    let size = n.div_ceil(LANES).checked_mul(*k).and_then(|s| s.checked_mul(LANES));
                    if slot(*x, Kind::F32)? != *k || slot(*out, Kind::F32)? != *n || Some(packed.len()) != size {
                        return fail(format!("a {k} x {n} matrix"));
                    }
                    (vec![*x], *out)
                }
                Step::Binary { a, b, out, .. } => {
                    let w = slot(*out, Kind::F32)?;
                    let mut reads = vec![];
                    for operand in [a, b] {
                        match operand {
                            Operand::Row(s) if slot(*s, Kind::F32)? == w => reads.push(*s),
                            Operand::PerRow(s) if slot(*s, Kind::F32)? == 1 => reads.push(*s),
                            Operand::Const(v) if v.len() == w => {}
                            Operand::Scalar(_) => {}
                            other => return fail(format!("an operand {other:?} for rows of {w}")),
                        }
                    }
                    // The width comes from a value or a constant row (not from the bytes alone).
                    if w != 1
                        && !matches!(
                            (a, b),
                            (Operand::Row(_) | Operand::Const(_), _) | (_, Operand::Row(_) | Operand::Const(_))
                        )
                    {
                        return fail(format!("rows of {w} from no row of that width"));
                    }
                    (reads, *out)
                }
                Step::Unary { x, out, .. } => {
                    if slot(*x, Kind::F32)? != slot(*out, Kind::F32)? {
                        return fail("different widths".into());
                    }
                    (vec![*x], *out)
                }
                Step::Softmax { x, out, axis, .. } => {
                    let w = slot(*x, Kind::F32)?;
                    if w != slot(*out, Kind::F32)? || *axis == 0 || w % axis != 0 {
                        return fail("an axis that does not divide the rows".into());
                    }
                    (vec![*x], *out)
                }
                Step::Reduce { x, out, how } => {
                    slot(*x, Kind::F32)?;
                    let kind = if matches!(how, Reduction::ArgMax { .. } | Reduction::ArgMin { .. }) {
                        Kind::I64
                    } else {
                        Kind::F32
                    };
                    if slot(*out, kind)? != 1 {
                        return fail("a reduction to more than one number".into());
                    }
                    (vec![*x], *out)
                }
                Step::IntToF32 { x, out } | Step::F32ToInt { x, out } => {
                    let (from, to) = if matches!(step, Step::IntToF32 { .. }) {
                        (Kind::I64, Kind::F32)
                    } else {
                        (Kind::F32, Kind::I64)
                    };
                    if slot(*x, from)? != slot(*out, to)? {
                        return fail("different widths".into());
                    }
                    (vec![*x], *out)
                }
                Step::Lookup { x, out, table } => {
                    let kind = if matches!(table, Table::F32(_)) { Kind::F32 } else { Kind::I64 };
                    if slot(*x, Kind::I64)? != slot(*out, kind)? {
                        return fail("different widths".into());
                    }
                    (vec![*x], *out)
                }
            };
            if let Some(r) = reads.iter().find(|&&r| r == out || !written[r]) {
                return fail(format!("slot {r} is read before it is written, or is the step's own output"));
            }
            written[out] = true;
        }
        for o in &self.outputs {
            let kind = if o.dtype == DType::Float32 { Kind::F32 } else { Kind::I64 };
            let integer = matches!(
                o.dtype,
                DType::Int8
                    | DType::Int16
                    | DType::Int32
                    | DType::Int64
                    | DType::Uint8
                    | DType::Uint16
                    | DType::Uint32
                    | DType::Uint64
            );
            if (kind == Kind::I64 && !integer)
                || Some(slot(o.slot, kind)?) != product(&o.dims)
                || !written.get(o.slot).copied().unwrap_or(false)
            {
                return Err(format!("an output {o:?} that its slot does not make"));
            }
        }
        Ok(())
    }
}

/// One output of the graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Output {
    slot: usize,
    /// Its element type: float32 for an f32 slot, an integer type for an integer slot.
    dtype: DType,
    dims: Vec<usize>,
}

/// An output being filled, block by block.
enum Buffer {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl Buffer {
    /// The numbers as `dtype` (checked: float32 for f32, an integer type for integers, whose
    /// values came from that type).
    fn into_data(self, dtype: DType) -> TensorData {
        match self {
            Buffer::F32(v) => TensorData::F32(v),
            Buffer::I64(v) => match dtype {
                DType::Int8 => TensorData::I8(v.into_iter().map(|x| x as i8).collect()),
                DType::Int16 => TensorData::I16(v.into_iter().map(|x| x as i16).collect()),
                DType::Int32 => TensorData::I32(v.into_iter().map(|x| x as i32).collect()),
                DType::Uint8 => TensorData::U8(v.into_iter().map(|x| x as u8).collect()),
                DType::Uint16 => TensorData::U16(v.into_iter().map(|x| x as u16).collect()),
                DType::Uint32 => TensorData::U32(v.into_iter().map(|x| x as u32).collect()),
                DType::Uint64 => TensorData::U64(v.into_iter().map(|x| x as u64).collect()),
                _ => TensorData::I64(v),
            },
        }
    }
}

/// The first bytes of a rows form.
const MAGIC: &[u8] = b"edgeserve rows\n";

/// The version of the rows form's layout that this edgeserve writes and reads.
pub const FORMAT: u32 = 1;

/// What a rows form must be (for load errors).
pub const FORM_EXPECTED: &str =
    "the rows form of a graph (model.rows), as `make models-nnef` writes it with this version of edgeserve";

/// A dimension of an input or output in the rows form.
#[derive(Serialize, Deserialize)]
enum IoDim {
    Fixed(u64),
    Symbol(String),
}

/// An input or output of the graph in the rows form.
#[derive(Serialize, Deserialize)]
struct Io {
    name: String,
    dtype: String,
    shape: Vec<IoDim>,
}

impl Io {
    fn of(g: &GraphIo) -> Io {
        let shape = g.shape.iter().map(|d| match d {
            Dim::Fixed(n) => IoDim::Fixed(*n),
            Dim::Symbol(s) => IoDim::Symbol(s.clone()),
        });
        Io { name: g.name.clone(), dtype: g.dtype.clone(), shape: shape.collect() }
    }

    fn into_graph_io(self) -> GraphIo {
        let shape = self.shape.into_iter().map(|d| match d {
            IoDim::Fixed(n) => Dim::Fixed(n),
            IoDim::Symbol(s) => Dim::Symbol(s),
        });
        GraphIo { name: self.name, dtype: self.dtype, shape: shape.collect() }
    }
}

#[derive(Serialize)]
struct FormOut<'a> {
    format: u32,
    inputs: Vec<Io>,
    outputs: Vec<Io>,
    program: &'a RowProgram,
}

#[derive(Deserialize)]
struct FormIn {
    /// Read first, on its own (a form of another format may not decode as this one).
    #[allow(dead_code)]
    format: u32,
    inputs: Vec<Io>,
    outputs: Vec<Io>,
    program: RowProgram,
}

/// The rows form of a graph: its inputs and outputs and its row program, as bytes.
pub fn write(inputs: &[GraphIo], outputs: &[GraphIo], program: &RowProgram) -> Result<Vec<u8>, String> {
    let form = FormOut {
        format: FORMAT,
        inputs: inputs.iter().map(Io::of).collect(),
        outputs: outputs.iter().map(Io::of).collect(),
        program,
    };
    let body = postcard::to_allocvec(&form).map_err(|e| e.to_string())?;
    Ok([MAGIC, &body].concat())
}

/// Reads a rows form ([`write`]): the graph's inputs, outputs and row program, checked.
pub fn read(bytes: &[u8]) -> Result<(Vec<GraphIo>, Vec<GraphIo>, RowProgram), String> {
    let body =
        bytes.strip_prefix(MAGIC).ok_or_else(|| format!("{} bytes that do not start with {MAGIC:?}", bytes.len()))?;
    let (format, _) = postcard::take_from_bytes::<u32>(body).map_err(|e| format!("no format version ({e})"))?;
    if format != FORMAT {
        return Err(format!("a rows form of format {format}, where this edgeserve reads format {FORMAT} (`make models-nnef` writes it again)"));
    }
    let (form, rest) = postcard::take_from_bytes::<FormIn>(body)
        .map_err(|e| format!("bytes that do not decode as a rows form ({e})"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the rows form", rest.len()));
    }
    let mut program = form.program;
    if form.inputs.len() != 1 || form.outputs.len() != program.outputs.len() {
        return Err(format!(
            "{} inputs and {} outputs for a program of 1 input and {} outputs",
            form.inputs.len(),
            form.outputs.len(),
            program.outputs.len()
        ));
    }
    program.check()?;
    let n = program.slots.len();
    (program.f32s, program.i64s) = (vec![vec![]; n], vec![vec![]; n]);
    Ok((
        form.inputs.into_iter().map(Io::into_graph_io).collect(),
        form.outputs.into_iter().map(Io::into_graph_io).collect(),
        program,
    ))
}

/// How a dense layer's constant matrix is laid out.
#[cfg_attr(not(any(test, feature = "tract")), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `[k, n]`.
    KN,
    /// `[n, k]`.
    NK,
    /// `[k]`, one output column (`mk,k->mn`, as a linear regression's ONNX form has it).
    K,
}

#[cfg_attr(not(any(test, feature = "tract")), allow(dead_code))]
/// `w` (`[k, n]`, `[n, k]` or `[k]` as `layout` says) as blocks of [`LANES`] columns, each `k` rows
/// of `LANES` numbers, the last block zero-padded.
fn pack(w: &[f32], k: usize, n: usize, layout: Layout) -> Vec<f32> {
    let blocks = n.div_ceil(LANES);
    let mut packed = vec![0.0; blocks * k * LANES];
    for (b, block) in packed.chunks_exact_mut(k * LANES).enumerate() {
        for (kk, row) in block.chunks_exact_mut(LANES).enumerate() {
            for (l, v) in row.iter_mut().enumerate().take(n.saturating_sub(b * LANES)) {
                let j = b * LANES + l;
                *v = if layout == Layout::NK { w[j * k + kk] } else { w[kk * n + j] };
            }
        }
    }
    packed
}

/// A side of a binary operation within one row.
#[derive(Clone, Copy)]
enum Side<'a> {
    Row(&'a [f32]),
    Num(f32),
}

#[inline(always)]
fn side<'a>(operand: &'a Operand, f32s: &'a [Vec<f32>], r: usize, w: usize) -> Side<'a> {
    match operand {
        Operand::Row(s) => Side::Row(&f32s[*s][r * w..(r + 1) * w]),
        Operand::PerRow(s) => Side::Num(f32s[*s][r]),
        Operand::Const(v) => Side::Row(v),
        Operand::Scalar(v) => Side::Num(*v),
    }
}

/// `out = f(a, b)` row by row, for rows of `w` numbers.
#[inline(always)]
fn binary(a: &Operand, b: &Operand, f32s: &[Vec<f32>], w: usize, out: &mut [f32], f: impl Fn(f32, f32) -> f32 + Copy) {
    for (r, row) in out.chunks_exact_mut(w).enumerate() {
        zip(side(a, f32s, r, w), side(b, f32s, r, w), row, f);
    }
}

/// `out[j] = f(a[j], b[j])`, a side that is one number standing for a whole row.
#[inline(always)]
fn zip(a: Side, b: Side, out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    match (a, b) {
        (Side::Row(a), Side::Row(b)) => out.iter_mut().zip(a.iter().zip(b)).for_each(|(o, (&a, &b))| *o = f(a, b)),
        (Side::Row(a), Side::Num(b)) => out.iter_mut().zip(a).for_each(|(o, &a)| *o = f(a, b)),
        (Side::Num(a), Side::Row(b)) => out.iter_mut().zip(b).for_each(|(o, &b)| *o = f(a, b)),
        (Side::Num(a), Side::Num(b)) => out.iter_mut().for_each(|o| *o = f(a, b)),
    }
}

/// `f32::max` (the other value when one is NaN) without the call wasm makes of it.
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if a >= b || b.is_nan() {
        a
    } else {
        b
    }
}

/// `f32::min`, likewise.
#[inline(always)]
fn min(a: f32, b: f32) -> f32 {
    if a <= b || b.is_nan() {
        a
    } else {
        b
    }
}

/// Runs one step on the first `n` rows of the buffers.
#[inline(never)]
fn exec(step: &Step, n: usize, slots: &[Slot], f32s: &mut [Vec<f32>], i64s: &mut [Vec<i64>]) -> Result<(), String> {
    match step {
        Step::Dense { x, out, k, n: cols, packed } => {
            let mut o = std::mem::take(&mut f32s[*out]);
            o.resize(n * cols, 0.0);
            dense(&f32s[*x][..n * k], *k, *cols, packed, &mut o);
            f32s[*out] = o;
        }
        Step::Binary { op, a, b, out } => {
            let w = slots[*out].width;
            let mut o = std::mem::take(&mut f32s[*out]);
            o.resize(n * w, 0.0);
            // The operation chosen once per step, each with a loop of its own over the rows.
            match op {
                Bin::Add => binary(a, b, f32s, w, &mut o, |a, b| a + b),
                Bin::Sub => binary(a, b, f32s, w, &mut o, |a, b| a - b),
                Bin::Mul => binary(a, b, f32s, w, &mut o, |a, b| a * b),
                Bin::Div => binary(a, b, f32s, w, &mut o, |a, b| a / b),
                Bin::Max => binary(a, b, f32s, w, &mut o, max),
                Bin::Min => binary(a, b, f32s, w, &mut o, min),
            }
            f32s[*out] = o;
        }
        Step::Unary { op, x, out } => {
            let w = slots[*out].width;
            let mut o = std::mem::take(&mut f32s[*out]);
            o.clear();
            o.extend_from_slice(&f32s[*x][..n * w]);
            op.apply(&mut o);
            f32s[*out] = o;
        }
        Step::Softmax { x, out, axis, log } => {
            let w = slots[*out].width;
            let mut o = std::mem::take(&mut f32s[*out]);
            o.clear();
            o.extend_from_slice(&f32s[*x][..n * w]);
            for run in o.chunks_exact_mut(*axis) {
                let top = run.iter().copied().fold(f32::NEG_INFINITY, max);
                run.iter_mut().for_each(|v| *v -= top);
            }
            exp_all(&mut o);
            for run in o.chunks_exact_mut(*axis) {
                let sum: f32 = run.iter().sum();
                if *log {
                    let ln = sum.ln();
                    run.iter_mut().for_each(|v| *v = v.ln() - ln);
                } else {
                    let recip = 1.0 / sum;
                    run.iter_mut().for_each(|v| *v *= recip);
                }
            }
            f32s[*out] = o;
        }
        Step::Reduce { x, out, how } => {
            let w = slots[*x].width;
            match how {
                Reduction::ArgMax { last } | Reduction::ArgMin { last } => {
                    let sign = if matches!(how, Reduction::ArgMax { .. }) { 1.0 } else { -1.0 };
                    i64s[*out].clear();
                    i64s[*out].extend(f32s[*x][..n * w].chunks_exact(w).map(|row| {
                        let mut best = 0;
                        for (j, &v) in row.iter().enumerate().skip(1) {
                            let (v, b) = (sign * v, sign * row[best]);
                            if v > b || (*last && v == b) {
                                best = j;
                            }
                        }
                        best as i64
                    }));
                }
                _ => {
                    let mut o = std::mem::take(&mut f32s[*out]);
                    o.clear();
                    o.extend(f32s[*x][..n * w].chunks_exact(w).map(|row| match how {
                        Reduction::Sum => row.iter().sum(),
                        Reduction::Prod => row.iter().product(),
                        Reduction::Max => row.iter().copied().fold(f32::NEG_INFINITY, max),
                        _ => row.iter().copied().fold(f32::INFINITY, min),
                    }));
                    f32s[*out] = o;
                }
            }
        }
        // From one kind to the other: the output's buffer is not among the inputs'.
        Step::IntToF32 { x, out } => {
            let w = slots[*out].width;
            f32s[*out].clear();
            f32s[*out].extend(i64s[*x][..n * w].iter().map(|&v| v as f32));
        }
        Step::F32ToInt { x, out } => {
            let w = slots[*out].width;
            i64s[*out].clear();
            i64s[*out].extend(f32s[*x][..n * w].iter().map(|&v| v as i64));
        }
        Step::Lookup { x, out, table } => {
            let w = slots[*out].width;
            let len = match table {
                Table::F32(t) => t.len(),
                Table::I64(t) => t.len(),
            };
            if let Some(bad) = i64s[*x][..n * w].iter().find(|&&i| i < 0 || i as usize >= len) {
                return Err(format!("index {bad} is outside a table of {len} entries"));
            }
            match table {
                Table::F32(t) => {
                    f32s[*out].clear();
                    f32s[*out].extend(i64s[*x][..n * w].iter().map(|&i| t[i as usize]));
                }
                Table::I64(t) => {
                    let mut o = std::mem::take(&mut i64s[*out]);
                    o.clear();
                    o.extend(i64s[*x][..n * w].iter().map(|&i| t[i as usize]));
                    i64s[*out] = o;
                }
            }
        }
    }
    Ok(())
}

/// `out = x · W` for rows of `k` numbers, W packed by [`pack`] (`n` columns). Block by block:
/// a block's matrix stays in cache while every row goes through it, in groups of rows that
/// share each load of it; a block of fewer columns than [`LANES`] (the last) is computed on as
/// many vectors as its columns fill, not on its zero padding. Not inlined: in the loop of
/// [`RowProgram::run`], V8 gave the kernel's vectors fewer registers.
#[inline(never)]
fn dense(x: &[f32], k: usize, n: usize, packed: &[f32], out: &mut [f32]) {
    if k == 0 || n == 0 {
        // Not compiled (every value has numbers in a row); no chunks of 0 below.
        out.iter_mut().for_each(|o| *o = 0.0);
        return;
    }
    for (b, block) in packed.chunks_exact(k * LANES).enumerate() {
        let cols = LANES.min(n - b * LANES);
        let at = Block { k, n, first: b * LANES, cols, block };
        match cols.div_ceil(4) {
            1 => at.through::<{ kernel::rows_for(1) }, 1>(x, out),
            2 => at.through::<{ kernel::rows_for(2) }, 2>(x, out),
            3 => at.through::<{ kernel::rows_for(3) }, 3>(x, out),
            _ => at.through::<{ kernel::rows_for(4) }, 4>(x, out),
        }
    }
}

/// One packed block of [`dense`]'s matrix and where its columns go.
struct Block<'a> {
    k: usize,
    n: usize,
    /// The block's first column, and how many it has.
    first: usize,
    cols: usize,
    block: &'a [f32],
}

impl Block<'_> {
    /// Every row of `x` through the block on `V` vectors of 4 columns, `R` rows at a time.
    #[inline(always)]
    fn through<const R: usize, const V: usize>(&self, x: &[f32], out: &mut [f32]) {
        let Block { k, n, first, cols, block } = *self;
        let mut x_groups = x.chunks_exact(k * R);
        let mut out_groups = out.chunks_exact_mut(n * R);
        for (xs, outs) in (&mut x_groups).zip(&mut out_groups) {
            let rows: [&[f32]; R] = std::array::from_fn(|r| &xs[r * k..(r + 1) * k]);
            for (r, acc) in kernel::rows::<R, V>(rows, block).iter().enumerate() {
                outs[r * n + first..][..cols].copy_from_slice(&acc[..cols]);
            }
        }
        for (row, out_row) in x_groups.remainder().chunks_exact(k).zip(out_groups.into_remainder().chunks_exact_mut(n))
        {
            out_row[first..][..cols].copy_from_slice(&kernel::row::<V>(row, block)[..cols]);
        }
    }
}

/// Rows times one packed block ([`LANES`] columns, `k` rows of the matrix): the sums of `k`
/// products per row, for the block's first `4 V` columns.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod kernel {
    use super::LANES;

    /// Rows through a block at once: four, which the compiler's vectors for this CPU hold.
    pub const fn rows_for(_vectors: usize) -> usize {
        4
    }

    #[inline(always)]
    pub fn rows<const R: usize, const V: usize>(rows: [&[f32]; R], block: &[f32]) -> [[f32; LANES]; R] {
        let mut acc = [[0.0f32; LANES]; R];
        for (kk, w) in block.chunks_exact(LANES).enumerate() {
            for (acc, row) in acc.iter_mut().zip(rows) {
                let x = row[kk];
                for (a, &w) in acc[..4 * V].iter_mut().zip(w) {
                    *a += x * w;
                }
            }
        }
        acc
    }

    #[inline(always)]
    pub fn row<const V: usize>(row: &[f32], block: &[f32]) -> [f32; LANES] {
        let [acc] = rows::<1, V>([row], block);
        acc
    }
}

/// The same in 128-bit SIMD: `V` f32x4 accumulators per row (fused multiply-adds in the
/// relaxed-SIMD build), twice as many for a lone row.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod kernel {
    use super::LANES;
    use core::arch::wasm32::*;

    /// Rows through a block of `vectors` vectors at once: as many as keep about eight
    /// accumulators, which with the block's vectors and one broadcast fit the sixteen SIMD
    /// registers V8 gives wasm on x86-64 (two rows of a whole block; sixteen accumulators spill
    /// to the stack on every step of k).
    pub const fn rows_for(vectors: usize) -> usize {
        match vectors {
            1 | 2 => 4,
            3 => 3,
            _ => 2,
        }
    }

    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        return f32x4_relaxed_madd(a, b, c);
        #[cfg(not(target_feature = "relaxed-simd"))]
        f32x4_add(f32x4_mul(a, b), c)
    }

    /// The first `V` vectors of one row of a packed block.
    #[inline(always)]
    fn load<const V: usize>(w: &[f32; LANES]) -> [v128; V] {
        const { assert!(V <= LANES / 4) };
        // SAFETY: `w` is LANES = 16 f32, so bytes [16 q, 16 q + 16) are in it for q < V <= 4;
        // v128_load takes unaligned addresses.
        std::array::from_fn(|q| unsafe { v128_load(w.as_ptr().add(4 * q) as *const v128) })
    }

    #[inline(always)]
    fn lanes<const V: usize>(acc: [v128; V]) -> [f32; LANES] {
        let mut out = [0.0f32; LANES];
        for (o, a) in out.chunks_exact_mut(4).zip(acc) {
            o.copy_from_slice(&[
                f32x4_extract_lane::<0>(a),
                f32x4_extract_lane::<1>(a),
                f32x4_extract_lane::<2>(a),
                f32x4_extract_lane::<3>(a),
            ]);
        }
        out
    }

    #[inline(always)]
    pub fn rows<const R: usize, const V: usize>(rows: [&[f32]; R], block: &[f32]) -> [[f32; LANES]; R] {
        let mut acc = [[f32x4_splat(0.0); V]; R];
        for (kk, w) in block.as_chunks::<LANES>().0.iter().enumerate() {
            let w = load::<V>(w);
            for (acc, row) in acc.iter_mut().zip(rows) {
                let x = f32x4_splat(row[kk]);
                for (a, &w) in acc.iter_mut().zip(&w) {
                    *a = madd(x, w, *a);
                }
            }
        }
        acc.map(lanes)
    }

    /// A lone row: two sets of `V` accumulators, for the even and the odd steps of k, added at
    /// the end. One set alone is a chain of dependent multiply-adds per vector, which a lone row
    /// has no other rows' work to overlap with (the grouped rows above do).
    #[inline(always)]
    pub fn row<const V: usize>(row: &[f32], block: &[f32]) -> [f32; LANES] {
        let zero = f32x4_splat(0.0);
        let (mut even, mut odd) = ([zero; V], [zero; V]);
        let (pairs, last) = block.as_chunks::<{ 2 * LANES }>();
        for (pair, x) in pairs.iter().zip(row.chunks_exact(2)) {
            let (w, _) = pair.as_chunks::<LANES>();
            let (w0, w1) = (load::<V>(&w[0]), load::<V>(&w[1]));
            let (x0, x1) = (f32x4_splat(x[0]), f32x4_splat(x[1]));
            for q in 0..V {
                even[q] = madd(x0, w0[q], even[q]);
                odd[q] = madd(x1, w1[q], odd[q]);
            }
        }
        if let (Some(w), Some(&x)) = (last.as_chunks::<LANES>().0.first(), row.get(2 * pairs.len())) {
            let (w, x) = (load::<V>(w), f32x4_splat(x));
            for q in 0..V {
                even[q] = madd(x, w[q], even[q]);
            }
        }
        lanes::<V>(std::array::from_fn(|q| f32x4_add(even[q], odd[q])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_matches_a_plain_product_for_every_block_width_and_group_of_rows() {
        // Widths that end in a block of 1 to 4 vectors (and several blocks), row counts that
        // leave every remainder of a group, and k odd and even.
        for n in [1, 3, 4, 5, 8, 10, 12, 13, 16, 17, 29, 33] {
            for k in [1, 2, 7, 8] {
                for rows in 0..10 {
                    let w: Vec<f32> = (0..k * n).map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0).collect();
                    let x: Vec<f32> = (0..rows * k).map(|i| ((i * 5 % 13) as f32 - 6.0) / 3.0).collect();
                    let packed = pack(&w, k, n, Layout::KN);
                    let mut out = vec![f32::NAN; rows * n];
                    dense(&x, k, n, &packed, &mut out);
                    for r in 0..rows {
                        for j in 0..n {
                            let want: f32 = (0..k).map(|kk| x[r * k + kk] * w[kk * n + j]).sum();
                            let got = out[r * n + j];
                            assert!(
                                (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                                "n {n} k {k} rows {rows}: [{r}, {j}] {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn packing_pads_the_last_block() {
        // w = [[1, 2, 3], [4, 5, 6]] (k = 2, n = 3), and its transpose.
        let packed = pack(&[1., 2., 3., 4., 5., 6.], 2, 3, Layout::KN);
        assert_eq!(packed.len(), 2 * LANES);
        assert_eq!(&packed[..4], &[1., 2., 3., 0.]);
        assert_eq!(&packed[LANES..LANES + 4], &[4., 5., 6., 0.]);
        assert_eq!(pack(&[1., 4., 2., 5., 3., 6.], 2, 3, Layout::NK), packed);
        assert_eq!(pack(&[7., 8.], 2, 1, Layout::K)[..LANES + 1], [&[7.][..], &[0.; LANES - 1], &[8.]].concat());
        let mut out = [0.0; 6];
        dense(&[1., 10., 2., 20.], 2, 3, &packed, &mut out);
        assert_eq!(out, [41., 52., 63., 82., 104., 126.]);
    }

    /// A program made by hand: two dense layers' worth of steps, for the rows form's checks.
    fn small_program() -> RowProgram {
        let slots = vec![
            Slot { kind: Kind::F32, width: 2, bound: None },
            Slot { kind: Kind::F32, width: 3, bound: None },
            Slot { kind: Kind::I64, width: 1, bound: Some(3) },
        ];
        let steps = vec![
            Step::Dense { x: 0, out: 1, k: 2, n: 3, packed: pack(&[1., 2., 3., 4., 5., 6.], 2, 3, Layout::KN) },
            Step::Reduce { x: 1, out: 2, how: Reduction::ArgMax { last: false } },
        ];
        let outputs = vec![
            Output { slot: 1, dtype: DType::Float32, dims: vec![3] },
            Output { slot: 2, dtype: DType::Int32, dims: vec![] },
        ];
        RowProgram { slots, steps, input_dims: vec![2], outputs, f32s: vec![vec![]; 3], i64s: vec![vec![]; 3] }
    }

    fn ios(names: &[&str]) -> Vec<GraphIo> {
        names
            .iter()
            .map(|n| GraphIo {
                name: (*n).into(),
                dtype: "float32".into(),
                shape: vec![Dim::Symbol("N".into()), Dim::Fixed(2)],
            })
            .collect()
    }

    #[test]
    fn a_program_runs_and_reads_back_from_its_rows_form() {
        let mut p = small_program();
        let out = p.run(&[1., 10., -1., -10.], 2).unwrap();
        assert_eq!(out[0], Array { shape: vec![2, 3], data: TensorData::F32(vec![41., 52., 63., -41., -52., -63.]) });
        assert_eq!(out[1], Array { shape: vec![2], data: TensorData::I32(vec![2, 0]) });
        assert!(p.run(&[1., 2., 3.], 2).unwrap_err().contains("expected 2 rows of 2 numbers, got 3"));
        let bytes = write(&ios(&["x"]), &ios(&["y", "label"]), &p).unwrap();
        let (inputs, outputs, mut read) = read(&bytes).unwrap();
        assert_eq!((inputs, outputs), (ios(&["x"]), ios(&["y", "label"])));
        assert_eq!(read.run(&[1., 10., -1., -10.], 2).unwrap(), out);
    }

    /// Bytes that are no rows form, or a program that would read outside its buffers, are
    /// refused with what was wrong; nothing panics.
    #[test]
    fn bad_rows_forms_are_refused() {
        let p = small_program();
        let good = write(&ios(&["x"]), &ios(&["y", "label"]), &p).unwrap();
        let err = |bytes: &[u8]| read(bytes).expect_err("refused");
        assert!(err(b"PK\x03\x04").contains("do not start with"));
        assert!(err(&good[..good.len() - 5]).contains("do not decode"));
        assert!(err(&[&good[..], &[0]].concat()).contains("1 bytes after"));
        let mut other_format = good.clone();
        other_format[MAGIC.len()] = 9;
        assert!(err(&other_format).contains("format 9"));
        assert!(err(&write(&ios(&["x"]), &ios(&["y"]), &p).unwrap()).contains("2 outputs"));
        let broken = |f: &dyn Fn(&mut RowProgram)| {
            let mut p = small_program();
            f(&mut p);
            err(&write(&ios(&["x"]), &ios(&["y", "label"]), &p).unwrap())
        };
        assert!(broken(&|p| p.steps.swap(0, 1)).contains("read before it is written"));
        assert!(broken(&|p| p.steps[0] = Step::Dense { x: 0, out: 1, k: 2, n: 3, packed: vec![0.0; 5] })
            .contains("a 2 x 3 matrix"));
        assert!(
            broken(&|p| p.steps[0] = Step::Dense { x: 0, out: 7, k: 2, n: 3, packed: vec![] }).contains("slot 7 of 3")
        );
        assert!(broken(&|p| p.steps[1] = Step::Unary { op: Unary::Exp, x: 1, out: 1 }).contains("own output"));
        assert!(broken(&|p| p.outputs[1].dtype = DType::Float32).contains("slot 2 holds"));
        assert!(broken(&|p| p.outputs[1].dtype = DType::Bool).contains("does not make"));
        assert!(broken(&|p| p.outputs[0].dims = vec![4]).contains("does not make"));
        assert!(broken(&|p| p.input_dims = vec![3]).contains("an input of [3]"));
        assert!(broken(&|p| p.slots[2].kind = Kind::F32).contains("slot 2 holds"));
        assert!(broken(&|p| p.input_dims = vec![usize::MAX, 2]).contains("an input of"));
        let scalars = |p: &mut RowProgram| {
            (p.slots[0].width, p.input_dims, p.slots[1].width) = (1, vec![1], 1 << 30);
            p.steps[0] = Step::Binary { op: Bin::Add, a: Operand::Scalar(1.0), b: Operand::PerRow(0), out: 1 };
        };
        assert!(broken(&scalars).contains("from no row"), "{}", broken(&scalars));
    }
}
