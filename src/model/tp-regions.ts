// Where a pass enters and leaves the tensor-parallel region (Megatron's mappings), as recorded steps.
// Without sequence parallelism the norm, dropout and residual tensors are replicated: a column-
// parallel layer reads its input as it is (backward: the input gradient is summed over the TP
// group) and a row-parallel layer's partial output is summed over the group (all-reduce).
// With it each rank holds n = B·T/tp token rows of them (sequence-parallel.ts): a column-parallel
// input is all-gathered along the sequence (backward: reduce-scatter) and a row-parallel output
// is reduce-scattered along the sequence (backward: its gradient is all-gathered).
// Legend: B batch, T sequence, C hidden, N = B*T, n = this rank's token rows (N, or B·T/tp).
import type { DropoutLayout } from '../gpu/kernels/dropout';
import { biasAdd } from '../gpu/kernels/elementwise';
import type { GpuTensor } from '../gpu/tensor';
import type { Acts, SeqScratch } from './activations';
import type { PassContext } from './gpt-passes';
import type { LinearWeight } from '../gpu/kernels/matmul-f16';
import { linearForward, linearProduct } from './linear';
import type { ProgramBuilder } from './program';

/** This rank's token rows of the norm, dropout and residual tensors. */
export const rowsOf = (m: PassContext): number => m.seq?.rows ?? m.N;

function scratchOf(a: Acts): SeqScratch {
  if (!a.seq) throw new Error('sequence parallelism: the activations have no gathered (N, C) buffers');
  return a.seq;
}

/** Hidden states (n, C): one dropout group per sample (the same mask on every TP rank); a
 *  sequence-parallel rank holds its positions' part of it. */
export function hiddenLayout(m: PassContext): DropoutLayout {
  const { T, C } = m.spec;
  if (!m.seq) return { groupSize: T * C, groups: 1, groupBase: 0 };
  return { groupSize: m.seq.span * C, groups: 1, groupBase: 0, offset: m.seq.first * C };
}

/** The (N, C) input a column-parallel layer multiplies: `ln` (n, C) itself, or gathered along the sequence. */
export function columnInput(m: PassContext, b: ProgramBuilder, a: Acts, ln: GpuTensor, what: string): GpuTensor {
  if (!m.seq) return ln;
  const full = scratchOf(a).ln;
  b.seqGather([{ local: ln, full }], m.B, m.spec.T, what);
  return full;
}

/** The (n, C) gradient of a column-parallel layer's input, from this rank's part in a.dln (N, C):
 *  summed over the TP group, or (sequence parallel) this rank's rows of the sum. */
export function columnInputGrad(m: PassContext, b: ProgramBuilder, a: Acts, what: string): GpuTensor {
  if (m.tp.size === 1) return a.dln;
  if (!m.seq) {
    b.tpSum(a.dln, what);
    return a.dln;
  }
  if (!a.dlnRows) throw new Error('sequence parallelism: the activations have no dlnRows buffer');
  b.seqReduceScatter(a.dln, a.dlnRows, m.B, m.spec.T, what);
  return a.dlnRows;
}

/** y (n, C) = x·Wᵀ summed over the TP group, then + b. x: (N, in/tp) W: (out, in/tp) b: (out) */
export function rowParallelForward(
  m: PassContext,
  b: ProgramBuilder,
  a: Acts,
  x: GpuTensor,
  W: LinearWeight,
  bias: GpuTensor,
  y: GpuTensor,
  inLocal: number,
  outF: number,
  what: string,
): void {
  if (m.tp.size === 1) {
    b.push(...linearForward(m.ctx, x, W, bias, y, m.N, inLocal, outF, undefined, m.arithmetic));
    return;
  }
  const partial = m.seq ? scratchOf(a).sum : y;
  b.push(...linearProduct(m.ctx, m.arithmetic, x, W, partial, { M: m.N, N: outF, K: inLocal, transB: true }));
  if (m.seq) b.seqReduceScatter(partial, y, m.B, m.spec.T, what);
  else b.tpSum(y, what);
  b.push(biasAdd(m.ctx, y, bias, rowsOf(m), outF));
}

/** Into a row-parallel layer's backward: its output gradient dOut (n, C) as the layer takes it
 *  (N, C), and the input `ln` (n, C) of the column-parallel layer before it, whose weight
 *  gradient needs it whole: both gathered along the sequence in one collective when sequence
 *  parallel (only the rows were kept), else as they are. */
export function rowOutputGrad(
  m: PassContext,
  b: ProgramBuilder,
  a: Acts,
  dOut: GpuTensor,
  ln: GpuTensor,
  what: string,
): { dy: GpuTensor; input: GpuTensor } {
  if (!m.seq) return { dy: dOut, input: ln };
  const s = scratchOf(a);
  b.seqGather(
    [
      { local: dOut, full: s.grad },
      { local: ln, full: s.ln },
    ],
    m.B,
    m.spec.T,
    what,
  );
  return { dy: s.grad, input: s.ln };
}

/** Where a TP-replicated parameter's gradient goes. Sequence parallel: the replicated gradients
 *  are summed over the TP group after the backward (norms see only the rank's rows), so one
 *  computed from whole tensors (row-parallel biases, learned positions) is taken on rank 0 only. */
export function wholeReplicatedGrad(m: PassContext, name: string): GpuTensor | null {
  return m.seq && m.tp.rank > 0 ? null : m.param(name, true);
}
