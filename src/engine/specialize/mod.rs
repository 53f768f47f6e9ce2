//! edgeserve's own ops in place of tract's, on patterns of small CNNs where tract's generic code
//! is slow (measured with bench/): a max pool whose windows tile the image; in wasm, a direct
//! convolution for few input or output channels ([`conv::SmallConv`], swapped in by
//! [`convolutions`] before tract optimizes a plan) and edgeserve's matrix-multiply kernels for
//! tract's f32 products (`gemm`, registered with tract-linalg rather than swapped in here).
//! [`specialize`] runs on every optimized plan before it is made runnable; each op stands for the
//! tract op it replaces (the same output facts and values, tested against tract's and, through
//! tests/fixtures/onnx, against onnxruntime).
//!
//! Tried and left out: a row-by-row constant `Pad` (the padding before "same" convolutions) saved
//! little of cnn-small and nothing measurable on ResNet-18 in wasm.

mod conv;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod gemm;
pub(super) mod indices;
mod pool;

use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::cnn::OptMaxPool;

pub use pool::TiledMaxPool;

/// Whether plans get [`conv::SmallConv`]: in wasm with SIMD, where tract's im2col for few
/// channels costs more than its product. Natively tract's AVX2 product keeps them (the op is compiled
/// there too, and tested against tract's convolution).
const SMALL_CONV: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Keeps edgeserve's matrix-multiply kernels, and with them their entries in tract's registry,
/// in the linked wasm: wasm-ld drops an object that nothing references, static registrations
/// included. Called with the static constructors, before tract is first used.
#[cfg(target_family = "wasm")]
pub fn keep_kernels() {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    std::hint::black_box(gemm::kernel_for as *const ());
}

/// Replaces the convolutions of `model` (typed, before tract optimizes it: tract would lower
/// them to im2col and a product) that [`conv::SmallConv`] covers, where this build uses it.
pub fn convolutions(model: &mut TypedModel) -> TractResult<()> {
    if SMALL_CONV {
        replace_convolutions(model)?;
    }
    Ok(())
}

/// [`convolutions`] in every build (for the tests).
fn replace_convolutions(model: &mut TypedModel) -> TractResult<()> {
    for id in 0..model.nodes.len() {
        let node = &model.nodes[id];
        let Some(op) = conv::replacing(model, node) else { continue };
        let mut patch = TypedModelPatch::new("small-conv");
        let x = patch.tap_model(model, node.inputs[0])?;
        let out = patch.wire_node(&node.name, op, &[x])?;
        patch.shunt_outside(model, node.id.into(), out[0])?;
        patch.apply(model)?;
    }
    Ok(())
}

/// Replaces the nodes of `model` (optimized) that edgeserve's ops cover, and checks the
/// indices that come at run time before the ops that index with them ([`indices`]).
pub fn specialize(model: &mut TypedModel) -> TractResult<()> {
    indices::check_indices(model)?;
    for id in 0..model.nodes.len() {
        let node = &model.nodes[id];
        let Some(pool) = node.op_as::<OptMaxPool>() else { continue };
        let Some(&input) = node.inputs.first() else { continue };
        let fact = model.outlet_fact(input)?;
        let Some(shape) = fact.shape.as_concrete() else { continue };
        if let Some(tiled) = TiledMaxPool::replacing(pool, shape, fact.datum_type) {
            model.node_mut(id).op = Box::new(tiled);
        }
    }
    Ok(())
}
