// Evaluation through the whole pipeline: forward only, no dropout, every stage in turn (under
// interleaved 1F1B every model chunk in turn, around the ring of stages: chunk-route.ts).
import type { MicroBatch, Trainer } from '../trainer';
import { chunkRoute, chunkTag } from './chunk-route';
import { pipeBytes, pipeFormat, readForWire, writeFromWire, type PipelinePlace } from './pipeline';

/** Runs `mb` forward (evaluation pass) through this rank's chunks, each fed by and feeding the
 *  ranks of its neighbouring chunks under `tag`; resolves once the head chunk (if here) has run. */
export async function pipelineForward(t: Trainer, place: PipelinePlace, mb: MicroBatch, tag: string): Promise<void> {
  const { comm } = place;
  const { model } = t;
  const [rows, cols] = [model.rows, model.spec.C];
  const codec = pipeFormat(place, 'activation');
  const v = model.chunks.length;
  for (let c = 0; c < v; c++) {
    const k = model.slotIndex(c, 0);
    const { range, acts, evalForward } = model.slots[k];
    const route = chunkRoute(place, c, v);
    t.upload(mb, k, { tokens: range.hasEmbedding, targets: range.hasHead });
    if (route.prevRank !== null) {
      const got = await comm.recv(route.prevRank, chunkTag(tag, route.global, v), pipeBytes(codec, rows, cols));
      writeFromWire(t, codec, model.inputOf(k), got);
    }
    await t.run(evalForward);
    if (route.nextRank !== null) {
      await comm.send(route.nextRank, chunkTag(tag, route.global + 1, v), await readForWire(t, codec, acts.xFinal));
    }
  }
}

/** Forward-only mean loss over `batches`, through the whole pipeline. */
export async function pipelineEval(
  t: Trainer,
  place: PipelinePlace,
  batches: readonly MicroBatch[],
  round: number,
): Promise<number> {
  const { comm } = place,
    { ctx, model } = t;
  let total = 0;
  t.tpCollectives?.restart?.(`eval${round}`);
  for (let i = 0; i < batches.length; i++) {
    await pipelineForward(t, place, batches[i], `eval:${round}:${i}`);
    if (model.stage.hasHead) {
      const losses = await ctx.read(model.headSlot.acts.losses);
      for (let j = 0; j < losses.length; j++) total += losses[j];
    }
  }
  const mean = total / (model.N * batches.length);
  return place.stages > 1
    ? (await comm.allReduce(Float32Array.of(mean), { ...place.ppGroup, name: 'pp-eval' }, 'sum'))[0]
    : mean;
}
