// A statement fragment for a matmul's main: the 8×8 outputs one invocation owns, in registers
// as 16 vec4. Rows ty*4+i (c<i>0, c<i>1) and BM/2+ty*4+i (d<i>0, d<i>1), i < 4; column bands
// tx*4 (…0) and BN/2+tx*4 (…1). Registers are never indexed at run time: a driver that cannot
// unroll such an index would move them to local memory (2 TFLOP/s instead of 39 on an H100).
var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0); var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0);
var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0); var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0);
var d00 = vec4<f32>(0.0); var d01 = vec4<f32>(0.0); var d10 = vec4<f32>(0.0); var d11 = vec4<f32>(0.0);
var d20 = vec4<f32>(0.0); var d21 = vec4<f32>(0.0); var d30 = vec4<f32>(0.0); var d31 = vec4<f32>(0.0);
