// Deterministic column sums: a workgroup owns TX adjacent columns and WG/TX row lanes; lane ty
// sums rows ty, ty + WG/TX, ... in order (the includer's loop), then column_lanes_sum adds the
// lanes by a fixed tree. The includer declares `override WG: u32`, `override TX: u32` (powers of
// two, TX ≤ WG) and `alias ColSum = f32;` (or a vector type). Call from uniform control flow.

var<workgroup> col_sum_scratch: array<ColSum, WG>;

// this invocation's (column tx, row lane ty) within the workgroup
fn column_lane(lid: u32) -> vec2<u32> {
  return vec2<u32>(lid % TX, lid / TX);
}

// v: lane ty's partial sum of column tx; returns column tx's total (valid on every lane)
fn column_lanes_sum(v: ColSum, tx: u32, ty: u32) -> ColSum {
  let lid = ty * TX + tx;
  col_sum_scratch[lid] = v;
  workgroupBarrier();
  for (var stride = WG / TX / 2u; stride > 0u; stride >>= 1u) {
    if (ty < stride) { col_sum_scratch[lid] += col_sum_scratch[lid + stride * TX]; }
    workgroupBarrier();
  }
  let total = col_sum_scratch[tx];
  workgroupBarrier();
  return total;
}
