// A short greedy sample from the model as it is, through the whole pipeline; what the admin page
// shows at every evaluation. Every rank runs the same loop: for each new token the window so far
// (the last seq_length tokens) goes forward without dropout; the last stage reads only the logits
// row of the window's last position and picks the most likely token (with a vocab-parallel head,
// each TP rank its best among its rows, then the best of the group), then tells its pipeline
// (a broadcast from the last stage) so the first stage can append it.
import type { GroupSpec } from '../../comm/worker-bridge';
import type { MicroBatch, Trainer } from '../trainer';
import type { PipelinePlace } from './pipeline';
import { pipelineForward } from './pipeline-eval';

export interface SampleOptions {
  prompt: readonly number[];
  newTokens: number;
  /** the tokenizer's ids: padded vocabulary rows are never picked */
  vocabSize: number;
  tpGroup: GroupSpec;
  /** distinguishes this sample's messages from other rounds' */
  round: number;
}

/** The window's tokens for every row of the micro-batch (N = B × T); padding after the last token
 *  does not change its logits (causal attention). */
function windowBatch(seq: readonly number[], B: number, T: number): { mb: MicroBatch; last: number } {
  const window = seq.slice(-T);
  const tokens = new Int32Array(B * T);
  for (let b = 0; b < B; b++) tokens.set(window, b * T);
  return { mb: { tokens, targets: new Int32Array(B * T), firstSample: 0 }, last: window.length - 1 };
}

/** The greedy choice among this rank's vocabulary rows: [logit, global id] (id −1: none). */
async function localBest(t: Trainer, row: number, vocabSize: number): Promise<[number, number]> {
  const { model, ctx } = t;
  const { start, count } = model.vocab;
  const logits = model.headSlot.acts.logits; // (N, v)
  const values = await ctx.read({ ...logits, offset: logits.offset + row * count * 4, length: count, shape: [count] });
  let best = Number.NEGATIVE_INFINITY,
    id = -1;
  for (let j = 0; j < count && start + j < vocabSize; j++) if (values[j] > best) [best, id] = [values[j], start + j];
  return [best, id];
}

export async function pipelineSample(t: Trainer, place: PipelinePlace, o: SampleOptions): Promise<number[]> {
  const { comm, stages } = place;
  const { model } = t;
  const { B, spec } = model;
  const lastStageRank = place.ppGroup.ranks[stages - 1];
  const seq = [...o.prompt];
  const out: number[] = [];
  t.tpCollectives?.restart?.(`sample${o.round}`);
  for (let k = 0; k < o.newTokens; k++) {
    const tag = `sample:${o.round}:${k}`;
    const { mb, last } = windowBatch(seq, B, spec.T);
    await pipelineForward(t, place, mb, tag);
    let choice: Float32Array = Float32Array.of(0);
    if (model.stage.hasHead) {
      let [best, id] = await localBest(t, last, o.vocabSize);
      if (o.tpGroup.ranks.length > 1) {
        const all = await comm.allGather(Float32Array.of(best, id), { ...o.tpGroup, name: `${o.tpGroup.name}:sample` });
        for (let r = 0; r < all.length; r += 2)
          if (all[r + 1] >= 0 && (all[r] > best || (all[r] === best && all[r + 1] < id)))
            [best, id] = [all[r], all[r + 1]];
      }
      choice = Float32Array.of(id);
    }
    if (stages > 1) choice = await comm.broadcast(choice, { ...place.ppGroup, name: 'pp-sample' }, lastStageRank);
    seq.push(choice[0]);
    out.push(choice[0]);
  }
  return out;
}
