// The WGSL snippets of shaders/lib/ by the name a shader includes them with
// (`// #include workgroup_sum.wgsl`, resolved by GpuContext.pipeline through wgsl-include.ts).
import attentionQDout from '../../shaders/lib/attention_q_dout.wgsl?raw';
import attentionTiles from '../../shaders/lib/attention_tiles.wgsl?raw';
import columnSum from '../../shaders/lib/column_sum.wgsl?raw';
import erf from '../../shaders/lib/erf.wgsl?raw';
import gelu from '../../shaders/lib/gelu.wgsl?raw';
import halfBits from '../../shaders/lib/half_bits.wgsl?raw';
import halfConvertHeader from '../../shaders/lib/half_convert_header.wgsl?raw';
import headIndex from '../../shaders/lib/head_index.wgsl?raw';
import matmulCausal from '../../shaders/lib/matmul_causal.wgsl?raw';
import matmulEpilogue from '../../shaders/lib/matmul_epilogue.wgsl?raw';
import matmulFma8x8 from '../../shaders/lib/matmul_fma_8x8.wgsl?raw';
import matmulRegs8x8 from '../../shaders/lib/matmul_regs_8x8.wgsl?raw';
import matmulStaging from '../../shaders/lib/matmul_staging.wgsl?raw';
import matmulStore4 from '../../shaders/lib/matmul_store4.wgsl?raw';
import matmulStore8x8 from '../../shaders/lib/matmul_store_8x8.wgsl?raw';
import matmulTileOrder from '../../shaders/lib/matmul_tile_order.wgsl?raw';
import matmulVec4Bindings from '../../shaders/lib/matmul_vec4_bindings.wgsl?raw';
import matmulVec4Io from '../../shaders/lib/matmul_vec4_io.wgsl?raw';
import onlineSoftmax from '../../shaders/lib/online_softmax.wgsl?raw';
import workgroupSum from '../../shaders/lib/workgroup_sum.wgsl?raw';

export const shaderLib: Readonly<Record<string, string>> = {
  'attention_q_dout.wgsl': attentionQDout,
  'attention_tiles.wgsl': attentionTiles,
  'column_sum.wgsl': columnSum,
  'erf.wgsl': erf,
  'gelu.wgsl': gelu,
  'half_bits.wgsl': halfBits,
  'half_convert_header.wgsl': halfConvertHeader,
  'head_index.wgsl': headIndex,
  'matmul_causal.wgsl': matmulCausal,
  'matmul_epilogue.wgsl': matmulEpilogue,
  'matmul_fma_8x8.wgsl': matmulFma8x8,
  'matmul_regs_8x8.wgsl': matmulRegs8x8,
  'matmul_staging.wgsl': matmulStaging,
  'matmul_store4.wgsl': matmulStore4,
  'matmul_store_8x8.wgsl': matmulStore8x8,
  'matmul_tile_order.wgsl': matmulTileOrder,
  'matmul_vec4_bindings.wgsl': matmulVec4Bindings,
  'matmul_vec4_io.wgsl': matmulVec4Io,
  'online_softmax.wgsl': onlineSoftmax,
  'workgroup_sum.wgsl': workgroupSum,
};
