//! Raw little-endian tensor files (the layout the Python preparers write with numpy's
//! `tobytes()`; bool as one byte per element), shared by the native runners of the conformance
//! and real-model suites.

use edgeserve::tensor::TensorData;

fn chunks<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes.chunks_exact(N).map(|c| f(c.try_into().unwrap_or([0; N]))).collect()
}

pub fn decode(dtype: &str, bytes: &[u8]) -> Result<TensorData, String> {
    Ok(match dtype {
        "float32" => TensorData::F32(chunks(bytes, f32::from_le_bytes)),
        "float64" => TensorData::F64(chunks(bytes, f64::from_le_bytes)),
        "int8" => TensorData::I8(chunks(bytes, i8::from_le_bytes)),
        "int16" => TensorData::I16(chunks(bytes, i16::from_le_bytes)),
        "int32" => TensorData::I32(chunks(bytes, i32::from_le_bytes)),
        "int64" => TensorData::I64(chunks(bytes, i64::from_le_bytes)),
        "uint8" => TensorData::U8(bytes.to_vec()),
        "uint16" => TensorData::U16(chunks(bytes, u16::from_le_bytes)),
        "uint32" => TensorData::U32(chunks(bytes, u32::from_le_bytes)),
        "uint64" => TensorData::U64(chunks(bytes, u64::from_le_bytes)),
        "bool" => TensorData::Bool(bytes.iter().map(|b| *b != 0).collect()),
        other => return Err(format!("unknown dtype {other}")),
    })
}

pub fn encode(data: &TensorData) -> Vec<u8> {
    fn le<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        v.iter().flat_map(|x| f(*x)).collect()
    }
    match data {
        TensorData::F32(v) => le(v, f32::to_le_bytes),
        TensorData::F64(v) => le(v, f64::to_le_bytes),
        TensorData::I8(v) => le(v, i8::to_le_bytes),
        TensorData::I16(v) => le(v, i16::to_le_bytes),
        TensorData::I32(v) => le(v, i32::to_le_bytes),
        TensorData::I64(v) => le(v, i64::to_le_bytes),
        TensorData::U8(v) => v.clone(),
        TensorData::U16(v) => le(v, u16::to_le_bytes),
        TensorData::U32(v) => le(v, u32::to_le_bytes),
        TensorData::U64(v) => le(v, u64::to_le_bytes),
        TensorData::Bool(v) => v.iter().map(|b| u8::from(*b)).collect(),
    }
}

/// A caught panic's message.
pub fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let text = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
    format!("panic: {}", text.unwrap_or_default())
}
