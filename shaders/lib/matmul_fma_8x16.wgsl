// A statement fragment: one k of the 8×16 outer product (lib/matmul_regs_8x16.wgsl's registers)
// from a0, a1 (op(A) rows ty*4.. and BM/2+ty*4..) and b0..b3 (op(B) columns j*BN/4+tx*4..).
c00 += a0.x * b0; c01 += a0.x * b1; c02 += a0.x * b2; c03 += a0.x * b3;
c10 += a0.y * b0; c11 += a0.y * b1; c12 += a0.y * b2; c13 += a0.y * b3;
c20 += a0.z * b0; c21 += a0.z * b1; c22 += a0.z * b2; c23 += a0.z * b3;
c30 += a0.w * b0; c31 += a0.w * b1; c32 += a0.w * b2; c33 += a0.w * b3;
d00 += a1.x * b0; d01 += a1.x * b1; d02 += a1.x * b2; d03 += a1.x * b3;
d10 += a1.y * b0; d11 += a1.y * b1; d12 += a1.y * b2; d13 += a1.y * b3;
d20 += a1.z * b0; d21 += a1.z * b1; d22 += a1.z * b2; d23 += a1.z * b3;
d30 += a1.w * b0; d31 += a1.w * b1; d32 += a1.w * b2; d33 += a1.w * b3;
