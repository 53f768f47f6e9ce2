//! `com.microsoft.DynamicQuantizeLSTM`, which onnxruntime's dynamic quantizer writes in place of
//! an LSTM (ddddocr's OCR model has one): tract-onnx has no such operator. Registered in the
//! parser's operator register.
//!
//! Its weights are int8 (or uint8) with scales and zero points per direction or per gate
//! column, laid out `[directions, input, 4 * hidden]` (W) and `[directions, hidden, 4 * hidden]`
//! (R), transposed from ONNX's LSTM; onnxruntime quantizes the input and the hidden state at
//! each step to multiply them with the int8 weights. Here the weights are dequantized, at load
//! (they are constants: tract folds the arithmetic), to an ONNX LSTM's float weights, which
//! tract-onnx's LSTM then runs in float. The outputs differ from onnxruntime's by its
//! quantization of the activations (a rounding step each), not by more.

use tract_onnx::model::ParsingContext;
use tract_onnx::ops::rec::common::CommonRec;
use tract_onnx::ops::rec::lstm::LSTM;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_core::ops::{self as core_ops, cast::cast};
use tract_onnx::tract_hir::internal::*;

/// Puts [`DynamicQuantizeLstm`] in the register.
pub(super) fn register(framework: &mut tract_onnx::Onnx) {
    framework.op_register.insert("DynamicQuantizeLSTM", build);
}

fn build(_: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    ensure!(node.input.len() == 12, "DynamicQuantizeLSTM {:?}: expected 12 inputs (an LSTM's 8, then W_scale, W_zero_point, R_scale, R_zero_point), got {}", node.name, node.input.len());
    ensure!(
        node.input[8..].iter().all(|i| !i.is_empty()),
        "DynamicQuantizeLSTM {:?}: the scales and zero points of W and R are required",
        node.name
    );
    ensure!(
        node.get_attr_opt::<i64>("layout")?.unwrap_or(0) == 0,
        "DynamicQuantizeLSTM {:?}: layout 1 (batch first) is not an attribute of this operator",
        node.name
    );
    let lstm = LSTM {
        f: Box::new(core_ops::nn::sigmoid()),
        g: Box::new(core_ops::math::tanh()),
        h: Box::new(core_ops::math::tanh()),
    };
    let rec = CommonRec::from_node_and_options(node, 3, 0, Box::new(lstm))?;
    // The node's inputs as tract has them: the LSTM's present ones, then the four quantization ones.
    let lstm_inputs = node.input[..8].iter().filter(|i| !i.is_empty()).count();
    Ok((expand(DynamicQuantizeLstm { rec, lstm_inputs }), vec![]))
}

#[derive(Debug, Clone)]
struct DynamicQuantizeLstm {
    /// tract-onnx's LSTM, which runs on the dequantized weights.
    rec: CommonRec,
    /// How many of the node's inputs are the LSTM's (X, W, R and the optional ones given).
    lstm_inputs: usize,
}

impl DynamicQuantizeLstm {
    /// `(q - zero_point) * scale` in float, transposed from `[directions, k, 4 * hidden]` to
    /// ONNX LSTM's `[directions, 4 * hidden, k]`; scale and zero point are per direction
    /// (`[directions]`) or per gate column (`[directions, 4 * hidden]`).
    fn dequantize(
        &self,
        prefix: &str,
        target: &mut TypedModel,
        q: OutletId,
        scale: OutletId,
        zero: OutletId,
    ) -> TractResult<OutletId> {
        let per_column = target.outlet_fact(scale)?.rank() == 2;
        let spread = |target: &mut TypedModel, name: &str, outlet: OutletId| -> TractResult<OutletId> {
            let mut outlet = target.wire_node(format!("{prefix}.{name}.f32"), cast(f32::datum_type()), &[outlet])?[0];
            outlet = target.wire_node(format!("{prefix}.{name}.k"), AxisOp::Add(1), &[outlet])?[0];
            if !per_column {
                outlet = target.wire_node(format!("{prefix}.{name}.column"), AxisOp::Add(2), &[outlet])?[0];
            }
            Ok(outlet)
        };
        let zero = spread(target, "zero_point", zero)?;
        let scale = spread(target, "scale", scale)?;
        let q = target.wire_node(format!("{prefix}.f32"), cast(f32::datum_type()), &[q])?[0];
        let centered = target.wire_node(format!("{prefix}.centered"), core_ops::math::sub(), &[q, zero])?[0];
        let scaled = target.wire_node(format!("{prefix}.scaled"), core_ops::math::mul(), &[centered, scale])?[0];
        Ok(target.wire_node(format!("{prefix}.transposed"), AxisOp::Move(2, 1), &[scaled])?[0])
    }
}

impl Expansion for DynamicQuantizeLstm {
    fn name(&self) -> StaticName {
        "DynamicQuantizeLSTM".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    fn nboutputs(&self) -> TractResult<usize> {
        self.rec.nboutputs()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> TractResult<()> {
        check_input_arity(inputs, self.lstm_inputs + 4)?;
        check_output_arity(outputs, self.nboutputs()?.max(1))?;
        let (x, w, r) = (&inputs[0], &inputs[1], &inputs[2]);
        s.equals(&x.datum_type, f32::datum_type())?;
        s.equals(&x.rank, 3)?;
        s.equals(&w.rank, 3)?;
        s.equals(&r.rank, 3)?;
        s.equals(&w.shape[0], &r.shape[0])?; // directions
        s.equals(&w.shape[1], &x.shape[2])?; // input size
        s.equals(&w.shape[2], 4i64 * r.shape[1].bex())?; // 4 * hidden
        s.equals(&r.shape[2], 4i64 * r.shape[1].bex())?;
        for q in &inputs[self.lstm_inputs..] {
            s.equals(&q.shape[0], &w.shape[0])?;
        }
        // Y: [sequence, directions, batch, hidden]; Y_h and Y_c: [directions, batch, hidden].
        let optional = [self.rec.optional_y_output, self.rec.optional_y_h_output, self.rec.optional_y_c_output];
        for (which, ix) in optional.into_iter().enumerate() {
            let Some(ix) = ix else { continue };
            let out = &outputs[ix];
            s.equals(&out.datum_type, f32::datum_type())?;
            let axes = if which == 0 {
                s.equals(&out.rank, 4)?;
                s.equals(&out.shape[0], &x.shape[0])?;
                1
            } else {
                s.equals(&out.rank, 3)?;
                0
            };
            s.equals(&out.shape[axes], &w.shape[0])?;
            s.equals(&out.shape[axes + 1], &x.shape[1])?;
            s.equals(&out.shape[axes + 2], &r.shape[1])?;
        }
        Ok(())
    }

    fn wire(&self, prefix: &str, target: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        let q = &inputs[self.lstm_inputs..];
        let w = self.dequantize(&format!("{prefix}.W"), target, inputs[1], q[0], q[1])?;
        let r = self.dequantize(&format!("{prefix}.R"), target, inputs[2], q[2], q[3])?;
        let mut lstm: TVec<OutletId> = inputs[..self.lstm_inputs].into();
        lstm[1] = w;
        lstm[2] = r;
        self.rec.wire(prefix, target, &lstm)
    }
}
