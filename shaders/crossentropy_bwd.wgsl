// Cross-entropy backward, elementwise over (N, V):
// dlogits = scale · (softmax(logits) - onehot(target)) = scale · (exp(logit - lse) - [v == target]);
// rows with target < 0 get 0. Overwrites dlogits.
// logits: (N, V)   targets: i32 (N)   lse: (N)   dlogits: (N, V)

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
struct Params { n: u32, v: u32, scale: f32 }
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= params.n * params.v) { return; }
  let row = i / params.v;
  let col = i - row * params.v;
  let t = targets[row];
  if (t < 0) {
    dlogits[i] = 0.0;
    return;
  }
  let p = exp(logits[i] - lse[row]);
  dlogits[i] = params.scale * (p - select(0.0, 1.0, u32(t) == col));
}
