// The WGSL snippets of shaders/lib/ by the name a shader includes them with
// (`// #include workgroup_sum.wgsl`, resolved by GpuContext.pipeline through wgsl-include.ts).
import columnSum from '../../shaders/lib/column_sum.wgsl?raw';
import erf from '../../shaders/lib/erf.wgsl?raw';
import headIndex from '../../shaders/lib/head_index.wgsl?raw';
import onlineSoftmax from '../../shaders/lib/online_softmax.wgsl?raw';
import workgroupSum from '../../shaders/lib/workgroup_sum.wgsl?raw';

export const shaderLib: Readonly<Record<string, string>> = {
  'column_sum.wgsl': columnSum,
  'erf.wgsl': erf,
  'head_index.wgsl': headIndex,
  'online_softmax.wgsl': onlineSoftmax,
  'workgroup_sum.wgsl': workgroupSum,
};
