// What a fused matmul does with 4 adjacent outputs y = alpha·acc + beta·C of one row before
// they are stored, by the override EPILOGUE:
//   0 nothing   1 y + bias[col..col+3]   2 y + bias, and aux = gelu(y + bias) (MLP up: h and g)
//   3 y · gelu'(aux) (the GELU backward on the input gradient of MLP down: dh = dg · gelu'(h))
//   4 exp(y − lse) where col ≤ row, else 0, with aux the (batch·M) log-sum-exp of each row of the
//     batch (attention probabilities again from the scores, alpha the softmax scale): see
//     probs_from_lse, which the includer's store calls instead of epilogue
// The includer declares `override EPILOGUE: u32` and the bindings bias: array<vec4<f32>> (N/4)
// and aux: array<vec4<f32>>, read_write, laid out as C (bound to placeholders when unused).

// #include gelu.wgsl

fn gelu4(v: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(gelu(v.x), gelu(v.y), gelu(v.z), gelu(v.w));
}

fn gelu_grad4(v: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(gelu_grad(v.x), gelu_grad(v.y), gelu_grad(v.z), gelu_grad(v.w));
}

// y: 4 outputs of C at vec4 index `at`, columns col..col+3
fn epilogue(y: vec4<f32>, at: u32, col: u32) -> vec4<f32> {
  if (EPILOGUE == 1u) { return y + bias[col / 4u]; }
  if (EPILOGUE == 2u) {
    let h = y + bias[col / 4u];
    aux[at] = gelu4(h);
    return h;
  }
  if (EPILOGUE == 3u) { return gelu_grad4(aux[at]) * y; }
  return y;
}

// code 4: 4 probabilities of row `row` (of its matrix) at columns col..col+3; g: the row of the batch
fn probs_from_lse(y: vec4<f32>, g: u32, row: u32, col: u32) -> vec4<f32> {
  let lse = aux[g / 4u][g % 4u];
  let keep = vec4<u32>(col, col + 1u, col + 2u, col + 3u) <= vec4<u32>(row);
  return select(vec4<f32>(0.0), exp(y - lse), keep);
}
