// f32 bit patterns ⇄ 16-bit bit patterns (fp16, bf16) in integer arithmetic only, so no float
// mode of the GPU (flushed subnormals, assumed-finite math) can change a bit. Round to nearest,
// ties to even; fp16: |x| past the largest half → ±Inf, f32 values below half the smallest
// half subnormal → ±0; NaN → quiet NaN with its sign. Decoding is exact.

fn f32_bits_to_f16(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let exp = (b >> 23u) & 0xffu;
  let mant = b & 0x7fffffu;
  if (exp == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u, mant != 0u); }
  let e = i32(exp) - 112; // rebias 127 → 15
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    let m = mant | 0x800000u;
    let shift = u32(14 - e);
    var h = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (h & 1u) == 1u)) { h += 1u; }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  // a carry out of the mantissa correctly bumps the exponent (up to Inf)
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h += 1u; }
  return sign | h;
}

fn f16_to_f32_bits(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0x1fu) { return sign | 0x7f800000u | (m << 13u); }
  if (e == 0u) {
    if (m == 0u) { return sign; }
    var mm = m;
    var ee = 113u; // 2^-14, the subnormals' scale, as a biased f32 exponent
    loop {
      if ((mm & 0x400u) != 0u) { break; }
      mm = mm << 1u;
      ee = ee - 1u;
    }
    return sign | (ee << 23u) | ((mm & 0x3ffu) << 13u);
  }
  return sign | ((e + 112u) << 23u) | (m << 13u);
}

fn f32_bits_to_bf16(b: u32) -> u32 {
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu) != 0u) { return ((b >> 16u) & 0x8000u) | 0x7fc0u; }
  return ((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u) & 0xffffu;
}

fn bf16_to_f32_bits(h: u32) -> u32 {
  return (h & 0xffffu) << 16u;
}

// FORMAT 0: fp16, 1: bf16 (an override constant of the including shader)
fn to_half_bits(b: u32) -> u32 {
  if (FORMAT == 1u) { return f32_bits_to_bf16(b); }
  return f32_bits_to_f16(b);
}

fn from_half_bits(h: u32) -> u32 {
  if (FORMAT == 1u) { return bf16_to_f32_bits(h); }
  return f16_to_f32_bits(h);
}
