// Coordinates of a flat index into a per-head tensor (B, H, T, hd).

struct HeadIndex { b: u32, h: u32, t: u32, d: u32 }

// i: flat index into (B, H, T, hd) with H = heads, T = seq
fn head_index(i: u32, heads: u32, seq: u32, hd: u32) -> HeadIndex {
  return HeadIndex(i / (hd * seq * heads), (i / (hd * seq)) % heads, (i / hd) % seq, i % hd);
}
