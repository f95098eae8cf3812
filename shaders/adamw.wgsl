// AdamW step (torch.optim.AdamW semantics) with gradient clipping by the global norm:
// clip = maxGradNorm > 0 ? min(1, maxGradNorm / (sqrt(Σg²) + 1e-6)) : 1, g = grad·clip
// m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²
// p = p·(1 - lr·wd) [only i < decay_count] - (lr/bc1) · m / (sqrt(v)/sqrt(bc2) + eps)
// params, grads, m, v: (P)   step: [lr, bc1 = 1-β1^t, bc2 = 1-β2^t, unused]   grad_sq_norm: (1)

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> step: array<f32>;
@group(0) @binding(5) var<storage, read> grad_sq_norm: array<f32>;
struct Hyper { n: u32, decay_count: u32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, max_grad_norm: f32 }
@group(0) @binding(6) var<uniform> hyper: Hyper;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= hyper.n) { return; }
  let lr = step[0];
  var clip = 1.0;
  if (hyper.max_grad_norm > 0.0) { clip = min(1.0, hyper.max_grad_norm / (sqrt(grad_sq_norm[0]) + 1e-6)); }
  let g = grads[i] * clip;
  let mi = hyper.beta1 * m[i] + (1.0 - hyper.beta1) * g;
  let vi = hyper.beta2 * v[i] + (1.0 - hyper.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  var p = params[i];
  if (i < hyper.decay_count) { p = p * (1.0 - lr * hyper.weight_decay); }
  params[i] = p - (lr / step[1]) * mi / (sqrt(vi) / sqrt(step[2]) + hyper.eps);
}
