// Writes, for each parity variant, the initial weights (our deterministic init) and the fixed
// batch as safetensors, plus the spec as JSON, for tools/reference/gpt_reference.py.
//   node --import tsx --import ./tools/register-raw.mjs tools/reference/export.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { writeSafetensors, type NamedTensor } from '../../src/checkpoint/safetensors';
import { initParam } from '../../src/model/init';
import { paramDefs } from '../../src/model/params';
import { parityBatch, PARITY_VARIANTS } from './variants';

const root = new URL('./fixtures/', import.meta.url);
for (const v of PARITY_VARIANTS) {
  const dir = new URL(`${v.name}/`, root);
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, NamedTensor> = {};
  for (const d of paramDefs(v.spec))
    tensors[d.name] = { dtype: 'F32', shape: d.shape, data: initParam(d, v.spec.seed) };
  const batch = parityBatch(v);
  tensors['batch.tokens'] = { dtype: 'I32', shape: [v.B, v.spec.T], data: batch.tokens };
  tensors['batch.targets'] = { dtype: 'I32', shape: [v.B, v.spec.T], data: batch.targets };
  const decay = Object.fromEntries(paramDefs(v.spec).map((d) => [d.name, d.decay]));
  writeFileSync(new URL('inputs.safetensors', dir), writeSafetensors(tensors));
  writeFileSync(new URL('variant.json', dir), `${JSON.stringify({ ...v, decay }, null, 1)}\n`);
  console.log(`wrote ${v.name}: ${Object.keys(tensors).length} tensors`);
}
