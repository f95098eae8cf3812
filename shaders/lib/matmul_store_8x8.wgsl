// A statement fragment: hands lib/matmul_regs_8x8.wgsl's registers to the kernel's
// store4(baseC, row, col, v) (4 adjacent outputs of one row); baseC, row0, col0, tx, ty in scope.
let r0 = row0 + ty * 4u;
let r1 = row0 + BM / 2u + ty * 4u;
let q0 = col0 + tx * 4u;
let q1 = col0 + BN / 2u + tx * 4u;
store4(baseC, r0, q0, c00); store4(baseC, r0, q1, c01);
store4(baseC, r0 + 1u, q0, c10); store4(baseC, r0 + 1u, q1, c11);
store4(baseC, r0 + 2u, q0, c20); store4(baseC, r0 + 2u, q1, c21);
store4(baseC, r0 + 3u, q0, c30); store4(baseC, r0 + 3u, q1, c31);
store4(baseC, r1, q0, d00); store4(baseC, r1, q1, d01);
store4(baseC, r1 + 1u, q0, d10); store4(baseC, r1 + 1u, q1, d11);
store4(baseC, r1 + 2u, q0, d20); store4(baseC, r1 + 2u, q1, d21);
store4(baseC, r1 + 3u, q0, d30); store4(baseC, r1 + 3u, q1, d31);
