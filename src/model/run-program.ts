// Runs a Program: consecutive dispatches share one compute pass; a TP talk step submits what
// came before, reads the tensor back, combines it over the TP group and writes it again.
import type { GpuContext } from '../gpu/context';
import { encodeDispatches } from '../gpu/dispatch';
import type { Program, TpCollectives } from './program';
import { combineVocabParallel } from './vocab-parallel';

export async function runProgram(ctx: GpuContext, program: Program, tp: TpCollectives | null): Promise<void> {
  let enc: GPUCommandEncoder | null = null;
  let pass: GPUComputePassEncoder | null = null;
  const flush = () => {
    pass?.end();
    if (enc) ctx.device.queue.submit([enc.finish()]);
    enc = pass = null;
  };
  const needTp = (what: string): TpCollectives => {
    if (!tp) throw new Error(`runProgram: ${what} needs the tensor-parallel group, and this rank has none`);
    return tp;
  };
  for (const step of program) {
    switch (step.kind) {
      case 'gpu':
        enc ??= ctx.device.createCommandEncoder();
        pass ??= enc.beginComputePass();
        encodeDispatches(pass, step.dispatches);
        break;
      case 'clear':
        pass?.end();
        pass = null;
        enc ??= ctx.device.createCommandEncoder();
        enc.clearBuffer(step.tensor.buffer, step.tensor.offset, step.tensor.length * 4);
        break;
      case 'tpSum': {
        const g = needTp(step.what);
        flush();
        ctx.write(step.tensor, await g.sum(await ctx.read(step.tensor), step.what));
        break;
      }
      case 'vocabLoss': {
        const g = needTp('vocab-parallel cross-entropy');
        flush();
        const [lse, tl, targets] = await Promise.all([
          ctx.read(step.lse),
          ctx.read(step.targetLogit),
          ctx.readInt(step.targets),
        ]);
        const parts = await g.gather(lse, 'loss.lse');
        const targetLogit = await g.sum(tl, 'loss.targetLogit');
        const out = combineVocabParallel(parts, g.size, targetLogit, targets);
        ctx.write(step.lse, out.lse);
        ctx.write(step.losses, out.losses);
        break;
      }
      default: {
        const never: never = step;
        throw new Error(`runProgram: unknown step ${(never as { kind: string }).kind}`);
      }
    }
  }
  flush();
}
