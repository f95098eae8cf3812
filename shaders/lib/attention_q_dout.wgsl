// The backward passes' second loader (lib/attention_tiles.wgsl): rows of q and dO (bindings q, dout).

fn load_q_dout(qr: u32, dr: u32, bh: u32, row0: u32, rows: u32, t: u32) {
  for (var e = t; e < rows * HQ; e += THREADS) {
    let at = quad_at(bh, row0 + e / HQ, e % HQ);
    sm[qr + (e / HQ) * RS + e % HQ] = select(vec4<f32>(0.0), q[at.x], at.y == 1u);
    sm[dr + (e / HQ) * RS + e % HQ] = select(vec4<f32>(0.0), dout[at.x], at.y == 1u);
  }
}
