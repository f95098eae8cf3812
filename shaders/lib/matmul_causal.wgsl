// Causal work skipping of the matmul kernels, by p.causal (MatmulCausal in
// src/gpu/kernels/matmul.ts), at whole tiles and whole K steps; the includer declares BM and a
// uniform `p` with a field `causal`:
// 0 none;
// 1 only C[r, c] with c ≤ r is needed: a tile wholly above the diagonal is not computed (C keeps
//   what it held there);
// 2 op(A)[r, k] = 0 for k > r: a tile's K range ends after its last row (the terms left out are
//   exact zeros: the sums do not change); its rows run heaviest first;
// 3 op(A)[r, k] = 0 for k < r: a tile's K range starts at its first row.

// the tile row a workgroup computes, from the one output_tile gives it (`rows` tile rows)
fn causal_row_tile(tileRow: u32, rows: u32) -> u32 {
  return select(tileRow, rows - 1u - tileRow, p.causal == 2u);
}

fn causal_skip_tile(row0: u32, col0: u32) -> bool {
  return p.causal == 1u && col0 >= row0 + BM;
}

// [begin, end) cut to where the tile's rows of op(A) can be nonzero: (begin', end'), begin' ≤ end'
fn causal_k_range(begin: u32, end: u32, row0: u32) -> vec2<u32> {
  let e = select(end, min(end, row0 + BM), p.causal == 2u);
  let b = select(begin, max(begin, row0), p.causal == 3u);
  return vec2<u32>(min(b, e), e);
}
