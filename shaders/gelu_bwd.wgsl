// GELU backward: dinp = dout * d/dx gelu(x), exact (erf) form.
// inp: (N)   dout: (N)   dinp: (N)  (overwritten)

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dinp: array<f32>;
struct Params { n: u32 }
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

fn erf_approx(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
          t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
          t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= params.n) { return; }
  let x = inp[i];
  let cdf = 0.5 * (1.0 + erf_approx(x * 0.70710678118654752));
  let pdf = 0.3989422804014327 * exp(-0.5 * x * x);
  dinp[i] = dout[i] * (cdf + x * pdf);
}
