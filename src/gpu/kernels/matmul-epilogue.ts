// What a fused matmul does to its outputs before storing them (lib/matmul_epilogue.wgsl), and
// the bindings that carries: bias (N) and aux (like C), placeholders when unused.
import type { GpuContext } from '../context';
import { describe, type GpuTensor } from '../tensor';
import { expectLength, expectNoAlias } from './validate';

export type MatmulEpilogue =
  | { kind: 'none' }
  /** C = product + bias[col] — a linear layer's bias */
  | { kind: 'bias'; bias: GpuTensor }
  /** C = product + bias (the pre-activation h), gelu = gelu(C) — an MLP's up projection */
  | { kind: 'biasGelu'; bias: GpuTensor; gelu: GpuTensor }
  /** C = product · gelu'(preGelu) — the input gradient of an MLP's down projection, through the GELU */
  | { kind: 'geluBackward'; preGelu: GpuTensor }
  /** C = exp(product − lse[row]) where col ≤ row, else 0 (alpha the softmax scale), over a batch of
   *  square matrices: causal attention probabilities again from the scores and the log-sum-exp of
   *  each row (batch·M) the forward's softmax left; with causal 'lowerOutput' the skipped tiles get 0 */
  | { kind: 'probsFromLse'; lse: GpuTensor };

const CODES = { none: 0, bias: 1, biasGelu: 2, geluBackward: 3, probsFromLse: 4 } as const;

interface EpilogueBindings {
  code: number;
  bias: GpuTensor;
  aux: GpuTensor;
}

const placeholders = new WeakMap<GpuContext, { bias: GpuTensor; aux: GpuTensor }>();

function placeholder(ctx: GpuContext): { bias: GpuTensor; aux: GpuTensor } {
  let p = placeholders.get(ctx);
  if (!p) placeholders.set(ctx, (p = { bias: ctx.tensor([4], 'matmul.noBias'), aux: ctx.tensor([4], 'matmul.noAux') }));
  return p;
}

/** Checks an epilogue's tensors against C (M, N) and the operands, and returns its bindings. */
export function epilogueBindings(
  ctx: GpuContext,
  kernel: string,
  e: MatmulEpilogue,
  c: GpuTensor,
  s: { M: number; N: number; batch: number; strideC?: number },
  reads: Record<string, GpuTensor> = {},
): EpilogueBindings {
  const none = placeholder(ctx);
  if (e.kind === 'none') return { code: 0, ...none };
  if (e.kind === 'probsFromLse') return lseBindings(kernel, e.lse, c, s, reads, none.bias);
  if (s.batch !== 1) throw new Error(`${kernel}: a '${e.kind}' epilogue needs batch 1, got ${s.batch}`);
  const bias = 'bias' in e ? e.bias : none.bias;
  const aux = e.kind === 'biasGelu' ? e.gelu : e.kind === 'geluBackward' ? e.preGelu : none.aux;
  if ('bias' in e) {
    expectLength(kernel, 'bias', e.bias, s.N);
    if (e.bias.offset % 16) throw new Error(`${kernel}: bias ${describe(e.bias)} must start at a 16-byte offset`);
  }
  if (aux !== none.aux) {
    const role = e.kind === 'biasGelu' ? 'gelu' : 'preGelu';
    expectLength(kernel, role, aux, s.M * s.N);
    if (aux.offset % 16) throw new Error(`${kernel}: ${role} ${describe(aux)} must start at a 16-byte offset`);
    expectNoAlias(kernel, { [role]: aux }, { ...reads, C: c, bias });
  }
  expectNoAlias(kernel, { C: c }, { bias });
  return { code: CODES[e.kind], bias, aux };
}

function lseBindings(
  kernel: string,
  lse: GpuTensor,
  c: GpuTensor,
  s: { M: number; N: number; batch: number; strideC?: number },
  reads: Record<string, GpuTensor>,
  noBias: GpuTensor,
): EpilogueBindings {
  if (s.M !== s.N) throw new Error(`${kernel}: 'probsFromLse' needs square matrices, got ${s.M}×${s.N}`);
  const strideC = s.strideC ?? s.M * s.N;
  if (strideC !== s.M * s.N)
    throw new Error(`${kernel}: 'probsFromLse' needs C's matrices packed (strideC ${s.M * s.N}), got ${strideC}`);
  expectLength(kernel, 'lse', lse, s.batch * s.M);
  if (lse.offset % 16) throw new Error(`${kernel}: lse ${describe(lse)} must start at a 16-byte offset`);
  expectNoAlias(kernel, { C: c }, { lse });
  expectNoAlias(kernel, { lse }, reads);
  return { code: CODES.probsFromLse, bias: noBias, aux: lse };
}
