// A statement fragment: one k of the 8×8 outer product (lib/matmul_regs_8x8.wgsl's registers)
// from a0, a1 (op(A) rows ty*4.. and BM/2+ty*4..) and b0, b1 (op(B) columns tx*4.., BN/2+tx*4..).
c00 += a0.x * b0; c01 += a0.x * b1;
c10 += a0.y * b0; c11 += a0.y * b1;
c20 += a0.z * b0; c21 += a0.z * b1;
c30 += a0.w * b0; c31 += a0.w * b1;
d00 += a1.x * b0; d01 += a1.x * b1;
d10 += a1.y * b0; d11 += a1.y * b1;
d20 += a1.z * b0; d21 += a1.z * b1;
d30 += a1.w * b0; d31 += a1.w * b1;
