// Runs one parity variant (tools/reference/variants.ts) on the GPU and compares it with the
// PyTorch golden data: initial loss, every parameter's gradient, the loss after each step.

import { readSafetensors } from '../checkpoint/safetensors';
import type { GpuContext } from '../gpu/context';
import type { AdamHyper } from '../gpu/kernels/optimizer';
import type { ModelSpec } from '../model/spec';
import { Trainer } from './trainer';

export interface ParityFiles {
  variant: { name: string; spec: ModelSpec; B: number; steps: number; lr: number; adam: AdamHyper };
  inputs: Uint8Array;
  golden: { initial_loss: number; losses: number[]; grad_norms: number[] };
  goldenGrads: Uint8Array;
}

export interface ParityReport {
  variant: string;
  initialLoss: { ours: number; torch: number; rel: number };
  grads: { name: string; rel: number }[];
  losses: { step: number; ours: number; torch: number; rel: number }[];
  gradNorms: { ours: number; torch: number }[];
}

export async function runParity(ctx: GpuContext, f: ParityFiles): Promise<ParityReport> {
  const v = f.variant;
  const trainer = new Trainer(ctx, {
    spec: v.spec,
    microBatchSize: v.B,
    gradAccumSteps: 1,
    adam: v.adam,
    schedule: { lr: v.lr, minLr: 0, warmup: 0, decayIters: v.steps, style: 'constant' },
  });
  const { tensors } = readSafetensors(f.inputs, `${v.name}/inputs.safetensors`);
  const layout = trainer.model.layout;
  const flat = new Float32Array(layout.total);
  for (const slot of layout.slots) {
    const t = tensors[slot.name];
    if (!t || t.data.length !== slot.length)
      throw new Error(`inputs.safetensors lacks ${slot.name} of ${slot.length} values`);
    flat.set(t.data as Float32Array, slot.offset);
  }
  trainer.loadParams(flat);
  const batch = {
    tokens: tensors['batch.tokens'].data as Int32Array,
    targets: tensors['batch.targets'].data as Int32Array,
  };
  const golden = readSafetensors(f.goldenGrads, `${v.name}/golden_grads.safetensors`).tensors;
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  const report: ParityReport = {
    variant: v.name,
    initialLoss: { ours: NaN, torch: f.golden.initial_loss, rel: NaN },
    grads: [],
    losses: [],
    gradNorms: [],
  };
  for (let step = 0; step < v.steps; step++) {
    const r = await trainer.trainStep([batch]);
    if (step === 0) {
      report.initialLoss = { ours: r.loss, torch: f.golden.initial_loss, rel: rel(r.loss, f.golden.initial_loss) };
      const grads = await trainer.readGrads();
      for (const slot of layout.slots) {
        const want = golden[slot.name].data;
        let maxDiff = 0,
          maxRef = 0;
        for (let i = 0; i < slot.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(grads[slot.offset + i] - want[i]));
          maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        report.grads.push({
          name: slot.name,
          rel: Number.isFinite(maxDiff) ? maxDiff / Math.max(maxRef, 1e-30) : Infinity,
        });
      }
    }
    report.losses.push({ step, ours: r.loss, torch: f.golden.losses[step], rel: rel(r.loss, f.golden.losses[step]) });
    report.gradNorms.push({ ours: r.gradNorm, torch: f.golden.grad_norms[step] });
  }
  return report;
}
