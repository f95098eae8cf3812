// dbias[c] += Σ_r dy[r, c], deterministic: each workgroup owns TX adjacent columns;
// its WG/TX row lanes sum rows lane, lane+TY, ... in order, then a fixed tree adds the lanes.
// dy: (rows, cols)   dbias: (cols) accumulated

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;
override TX: u32 = 32u;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let TY = WG / TX;
  let tx = lid.x % TX;
  let ty = lid.x / TX;
  let c = (wid.x + wid.y * nwg.x) * TX + tx;
  var s = 0.0;
  if (c < params.cols) {
    for (var r = ty; r < params.rows; r += TY) { s += dy[r * params.cols + c]; }
  }
  part[lid.x] = s;
  workgroupBarrier();
  for (var stride = TY / 2u; stride > 0u; stride >>= 1u) {
    if (ty < stride) { part[lid.x] += part[lid.x + stride * TX]; }
    workgroupBarrier();
  }
  if (ty == 0u && c < params.cols) { dbias[c] = dbias[c] + part[tx]; }
}
