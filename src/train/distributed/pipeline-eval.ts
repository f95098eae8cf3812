// Evaluation through the whole pipeline: forward only, no dropout, every stage in turn.
import type { MicroBatch, Trainer } from '../trainer';
import { pipeBytes, pipeFormat, readForWire, writeFromWire, type PipelinePlace } from './pipeline';

/** Forward-only mean loss over `batches`, through the whole pipeline. */
export async function pipelineEval(
  t: Trainer,
  place: PipelinePlace,
  batches: readonly MicroBatch[],
  round: number,
): Promise<number> {
  const { comm } = place,
    { ctx, model } = t;
  const [rows, cols] = [model.rows, model.spec.C];
  const codec = pipeFormat(place, 'activation');
  let total = 0;
  t.tpCollectives?.restart?.(`eval${round}`);
  for (let i = 0; i < batches.length; i++) {
    const tag = `eval:${round}:${i}`;
    t.upload(batches[i], 0, { tokens: model.stage.hasEmbedding, targets: model.stage.hasHead });
    if (place.prevRank !== null) {
      const got = await comm.recv(place.prevRank, tag, pipeBytes(codec, rows, cols));
      writeFromWire(t, codec, model.inputOf(0), got);
    }
    await t.run(model.slots[0].evalForward);
    if (place.nextRank !== null) await comm.send(place.nextRank, tag, await readForWire(t, codec, model.acts.xFinal));
    if (model.stage.hasHead) {
      const losses = await ctx.read(model.acts.losses);
      for (let j = 0; j < losses.length; j++) total += losses[j];
    }
  }
  const mean = total / (model.N * batches.length);
  return place.stages > 1
    ? (await comm.allReduce(Float32Array.of(mean), { ...place.ppGroup, name: 'pp-eval' }, 'sum'))[0]
    : mean;
}
