// store4: 4 adjacent outputs v (before alpha, beta and the epilogue) of one row into C, for the
// vec4 matmul kernels. The includer declares c: array<vec4<f32>>, p (M, N, alpha, beta),
// CHECK_BOUNDS, EPILOGUE and lib/matmul_epilogue.wgsl's functions.

// beta = 0 never reads C (NaN there does not leak); N % 4 == 0, so 4 columns are in or out together
fn store4(base: u32, row: u32, col: u32, v: vec4<f32>) {
  if (CHECK_BOUNDS && (row >= p.M || col >= p.N)) { return; }
  let at = (base + row * p.N + col) / 4u;
  var y = p.alpha * v;
  if (p.beta != 0.0) { y += p.beta * c[at]; }
  // C's layers are whole matrices here (strideC = M·N): base / N is the matrix's first row
  if (EPILOGUE == 4u) { c[at] = probs_from_lse(y, base / p.N + row, row, col); return; }
  c[at] = epilogue(y, at, col);
}
