// Which output tile a matmul workgroup computes: (tile row, tile column). With GROUP_M > 0,
// GROUP_M tile rows sweep the columns together, so their operands are reused from L2; with 0,
// plain row-major order. The includer declares `override GROUP_M: u32`.

fn output_tile(wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  if (GROUP_M == 0u) { return vec2<u32>(wid.y, wid.x); }
  let pid = wid.x + wid.y * nwg.x;
  let perGroup = GROUP_M * nwg.x;
  let firstM = (pid / perGroup) * GROUP_M;
  let rows = min(nwg.y - firstM, GROUP_M);
  return vec2<u32>(firstM + (pid % perGroup) % rows, (pid % perGroup) / rows);
}
