// A statement fragment for a matmul's main: the 8×16 outputs one invocation owns, in registers
// as 32 vec4. Rows ty*4+i (c<i><j>) and BM/2+ty*4+i (d<i><j>), i < 4; column bands j*BN/4+tx*4
// (…<j>), j < 4. Registers are never indexed at run time: a driver that cannot unroll such an
// index would move them to local memory (2 TFLOP/s instead of 39 on an H100).
var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0); var c02 = vec4<f32>(0.0); var c03 = vec4<f32>(0.0);
var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0); var c12 = vec4<f32>(0.0); var c13 = vec4<f32>(0.0);
var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0); var c22 = vec4<f32>(0.0); var c23 = vec4<f32>(0.0);
var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0); var c32 = vec4<f32>(0.0); var c33 = vec4<f32>(0.0);
var d00 = vec4<f32>(0.0); var d01 = vec4<f32>(0.0); var d02 = vec4<f32>(0.0); var d03 = vec4<f32>(0.0);
var d10 = vec4<f32>(0.0); var d11 = vec4<f32>(0.0); var d12 = vec4<f32>(0.0); var d13 = vec4<f32>(0.0);
var d20 = vec4<f32>(0.0); var d21 = vec4<f32>(0.0); var d22 = vec4<f32>(0.0); var d23 = vec4<f32>(0.0);
var d30 = vec4<f32>(0.0); var d31 = vec4<f32>(0.0); var d32 = vec4<f32>(0.0); var d33 = vec4<f32>(0.0);
