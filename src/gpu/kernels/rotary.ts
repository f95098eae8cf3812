// NeoX rotary tables, computed on the CPU once at bind time the way GPT-NeoX does in
// f32 (inv_freq = 1/base^(2i/dims), angle = t·inv_freq, both rounded to f32), with
// cos/sin evaluated in f64: GPU sin/cos lose accuracy at large angles.

export interface RotarySpec {
  /** rotary dims per head (even, ≤ head dim); NeoX rotate_half style */
  dims: number;
  base: number;
}

/** [cos (T, dims/2) | sin (T, dims/2)] as one f32 array */
export function rotaryTable(T: number, rotary: RotarySpec): Float32Array {
  const half = rotary.dims / 2;
  const table = new Float32Array(2 * T * half);
  const f = Math.fround;
  for (let i = 0; i < half; i++) {
    const invFreq = f(1 / f(rotary.base ** f((2 * i) / rotary.dims)));
    for (let t = 0; t < T; t++) {
      const angle = f(t * invFreq);
      table[t * half + i] = Math.cos(angle);
      table[T * half + t * half + i] = Math.sin(angle);
    }
  }
  return table;
}
