// Pipeline parallelism: one stage's step runs its 1F1B op list (src/parallel/schedule.ts)
// in order. Activations go forward and gradients backward over the transport; micro-batch
// i lives in activation slot i mod K (K = the most micro-batches this stage holds in flight).
// After the schedule: tied-embedding gradients are summed between the first and last stage,
// gradients averaged over data-parallel replicas, and the global gradient norm is summed
// over the pipeline so every stage clips with the same coefficient.
import type { GroupSpec } from '../../comm/worker-bridge';
import { encodeDispatches } from '../../gpu/dispatch';
import type { ScheduleOp } from '../../parallel/ops';
import type { StepResult, MicroBatch, Trainer } from '../trainer';
import type { RankComm } from './rank-comm';

export interface PipelinePlace {
  comm: RankComm;
  stage: number;
  stages: number;
  /** global ranks of the neighbouring stages in this rank's pipeline */
  prevRank: number | null;
  nextRank: number | null;
  ppGroup: GroupSpec;
  /** [first stage rank, last stage rank] when embeddings are tied across stages */
  tiedEmbeddingGroup: GroupSpec | null;
  dpGroup: GroupSpec;
  ops: readonly ScheduleOp[];
}

const f32 = (u: Uint8Array) => new Float32Array(u.buffer, u.byteOffset, u.byteLength / 4);

export async function pipelineStep(t: Trainer, place: PipelinePlace, micro: readonly MicroBatch[]): Promise<StepResult> {
  const { comm, ops } = place;
  const { ctx, model } = t;
  const K = model.slots.length;
  const lr = t.beginStep();
  const step = t.step;
  const slotOf = (mb: number) => mb % K;
  const bytes = model.N * model.spec.C * 4;
  const tag = (what: string, mb: number) => `pp:${what}:${step}:${mb}`;
  for (const op of ops) {
    const k = 'microbatch' in op ? slotOf(op.microbatch) : 0;
    const acts = model.slots[k].acts;
    switch (op.kind) {
      case 'forward': {
        t.upload(micro[op.microbatch], k, { tokens: model.stage.hasEmbedding, targets: model.stage.hasHead });
        const extra = model.stage.hasHead ? [t.accumulateLoss[k]] : [];
        ctx.run([...model.slots[k].forward, ...extra]);
        break;
      }
      case 'backward': {
        const enc = ctx.device.createCommandEncoder();
        if (model.stage.hasHead) enc.clearBuffer(acts.dx.buffer);
        const pass = enc.beginComputePass();
        encodeDispatches(pass, model.slots[k].backward);
        pass.end();
        ctx.device.queue.submit([enc.finish()]);
        break;
      }
      case 'send': {
        const src = op.what === 'activation' ? acts.xFinal : acts.dx;
        const to = op.what === 'activation' ? place.nextRank : place.prevRank;
        if (to === null) throw new Error(`stage ${place.stage}: schedule sends ${op.what} ${op.microbatch} past the end of the pipeline`);
        await comm.send(to, tag(op.what, op.microbatch), new Uint8Array(await ctx.readRaw(src)));
        break;
      }
      case 'recv': {
        const from = op.what === 'activation' ? place.prevRank : place.nextRank;
        if (from === null) throw new Error(`stage ${place.stage}: schedule receives ${op.what} ${op.microbatch} from outside the pipeline`);
        const got = await comm.recv(from, tag(op.what, op.microbatch), bytes);
        ctx.write(op.what === 'activation' ? model.inputOf(k) : acts.dx, f32(got));
        break;
      }
    }
  }
  await syncGradients(t, place);
  return t.finishStep(lr, micro.length, async (loss) => (place.stages > 1 ? (await comm.allReduce(Float32Array.of(loss), { ...place.ppGroup, name: 'pp-loss' }, 'sum'))[0] : loss));
}

async function syncGradients(t: Trainer, place: PipelinePlace): Promise<void> {
  const { comm } = place;
  const { ctx, model } = t;
  const needsHost = place.tiedEmbeddingGroup !== null || place.dpGroup.ranks.length > 1;
  if (needsHost) {
    let grads = await t.readGrads();
    if (place.tiedEmbeddingGroup) {
      const wte = model.layout.byName.get('embed.wte')!;
      const summed = await comm.allReduce(grads.slice(wte.offset, wte.offset + wte.length), place.tiedEmbeddingGroup, 'sum');
      grads.set(summed, wte.offset);
    }
    if (place.dpGroup.ranks.length > 1) grads = await comm.allReduce(grads, place.dpGroup, 'avg');
    t.writeGrads(grads);
  }
  ctx.run(t.normDispatches);
  if (place.stages > 1) {
    let sq = (await ctx.read(t.gradSq))[0];
    // the last stage's copy of tied embeddings is counted once, on the first stage
    if (place.tiedEmbeddingGroup && model.stage.hasHead && !model.stage.hasEmbedding) {
      const wte = model.layout.byName.get('embed.wte')!;
      const g = (await t.readGrads()).subarray(wte.offset, wte.offset + wte.length);
      let dup = 0;
      for (let i = 0; i < g.length; i++) dup += g[i] * g[i];
      sq -= dup;
    }
    const total = await comm.allReduce(Float32Array.of(sq), { ...place.ppGroup, name: 'pp-gradnorm' }, 'sum');
    ctx.write(t.gradSq, total);
  }
  ctx.run([t.updateDispatch]);
}
