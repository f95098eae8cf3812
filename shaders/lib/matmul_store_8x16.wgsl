// A statement fragment: hands lib/matmul_regs_8x16.wgsl's registers to the kernel's
// store4(baseC, row, col, v) (4 adjacent outputs of one row); baseC, row0, col0, tx, ty in scope.
let r0 = row0 + ty * 4u;
let r1 = row0 + BM / 2u + ty * 4u;
let q0 = col0 + tx * 4u;
let q1 = col0 + 1u * (BN / 4u) + tx * 4u;
let q2 = col0 + 2u * (BN / 4u) + tx * 4u;
let q3 = col0 + 3u * (BN / 4u) + tx * 4u;
store4(baseC, r0, q0, c00); store4(baseC, r0, q1, c01);
store4(baseC, r0, q2, c02); store4(baseC, r0, q3, c03);
store4(baseC, r0 + 1u, q0, c10); store4(baseC, r0 + 1u, q1, c11);
store4(baseC, r0 + 1u, q2, c12); store4(baseC, r0 + 1u, q3, c13);
store4(baseC, r0 + 2u, q0, c20); store4(baseC, r0 + 2u, q1, c21);
store4(baseC, r0 + 2u, q2, c22); store4(baseC, r0 + 2u, q3, c23);
store4(baseC, r0 + 3u, q0, c30); store4(baseC, r0 + 3u, q1, c31);
store4(baseC, r0 + 3u, q2, c32); store4(baseC, r0 + 3u, q3, c33);
store4(baseC, r1, q0, d00); store4(baseC, r1, q1, d01);
store4(baseC, r1, q2, d02); store4(baseC, r1, q3, d03);
store4(baseC, r1 + 1u, q0, d10); store4(baseC, r1 + 1u, q1, d11);
store4(baseC, r1 + 1u, q2, d12); store4(baseC, r1 + 1u, q3, d13);
store4(baseC, r1 + 2u, q0, d20); store4(baseC, r1 + 2u, q1, d21);
store4(baseC, r1 + 2u, q2, d22); store4(baseC, r1 + 2u, q3, d23);
store4(baseC, r1 + 3u, q0, d30); store4(baseC, r1 + 3u, q1, d31);
store4(baseC, r1 + 3u, q2, d32); store4(baseC, r1 + 3u, q3, d33);
