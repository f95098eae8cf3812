// Sum over a workgroup by a fixed-order tree (deterministic), for one-workgroup-per-row kernels.
// The includer declares `override WG: u32` (a power of two: the workgroup size) and
// `alias RowSum = f32;` (or a vector type, to sum several quantities at once).
// Call from uniform control flow; every invocation gets the total.

var<workgroup> row_sum_scratch: array<RowSum, WG>;

fn workgroup_sum(v: RowSum, lid: u32) -> RowSum {
  row_sum_scratch[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { row_sum_scratch[lid] += row_sum_scratch[lid + s]; }
    workgroupBarrier();
  }
  let total = row_sum_scratch[0];
  workgroupBarrier();
  return total;
}
