// The plan as text for a terminal: sizes, a picture of the rank grid, groups, coordinates,
// stages with memory, and each stage's schedule (with a timeline when it fits).

import { isCompute, computeLabel, type ChunkLayout, type ScheduleOp } from './ops';
import { DEFAULT_DURATIONS, timeSchedule } from './placement';
import type { Plan } from './plan';

const WIDTH = 100;

export function renderPlanText(plan: Plan, warnings: readonly string[] = []): string {
  const out: string[] = [];
  const { world, tp, pp, dp } = plan;
  out.push(
    `plan: ${world} rank${world === 1 ? '' : 's'} = TP ${tp} × PP ${pp} × DP ${dp}   (rank = tp + ${tp}·dp + ${tp * dp}·pp)`,
  );
  out.push(`parameters   ${fmtCount(plan.totalParams)} (${plan.totalParams.toLocaleString('en-US')})`);
  out.push(
    `vocabulary   ${plan.vocabSize} → padded ${plan.paddedVocabSize} (a multiple of make_vocab_size_divisible_by × TP)`,
  );
  out.push(
    `batch        train_batch_size ${plan.train_batch_size} = micro ${plan.train_micro_batch_size_per_gpu} × gradient_accumulation_steps ${plan.gradient_accumulation_steps} × DP ${dp}`,
  );
  const kind =
    plan.virtualChunks > 1
      ? `interleaved 1F1B, ${plan.virtualChunks} chunks per stage`
      : plan.pipelineEngine
        ? '1F1B'
        : 'no pipeline engine (pipe_parallel_size 0)';
  out.push(
    `pipeline     ${kind}; ${plan.gradient_accumulation_steps} microbatches over ${pp} stage${pp === 1 ? '' : 's'}; bubble ${(plan.bubbleFraction * 100).toFixed(1)}%`,
  );
  out.push(`partition    ${plan.partitionMethod}`);
  out.push(`ZeRO         ${zeroText(plan)}`);
  out.push(
    `sequence     ${
      plan.sequenceParallel
        ? `parallel over TP ${plan.tp}: norms, dropout and residuals on seq_length / ${plan.tp} positions per rank`
        : 'whole on every rank (sequence_parallel off, or no TP)'
    }`,
  );

  out.push('', 'rank grid (one box per pipeline stage; rows dp, columns tp)');
  out.push(...gridPicture(plan));

  out.push('', 'process groups');
  for (const k of ['tp', 'pp', 'dp'] as const) {
    const groups = plan.grid.groups[k];
    out.push(
      ...wrap(
        `  ${k.toUpperCase()} (${groups.length}):`,
        groups.map((g) => `[${g.join(',')}]`),
      ),
    );
  }
  out.push('', 'rank coordinates (tp, pp, dp)');
  out.push(
    ...wrap(
      ' ',
      plan.grid.coords.map((c) => `${c.rank}:(${c.tp},${c.pp},${c.dp})`),
    ),
  );

  out.push('', `stages (memory per rank, ${precisionText(plan)}, ZeRO stage ${plan.zeroStageRun})`);
  const rows = plan.stages.map((s) => [
    String(s.stage),
    s.chunks.map(([a, b]) => `[${a},${b})`).join(' '),
    s.holds.join(', ') || '-',
    fmtCount(s.params),
    fmtBytes(s.memory.params),
    fmtBytes(s.memory.grads),
    fmtBytes(s.memory.optimizer),
    fmtBytes(s.memory.activations),
    fmtBytes(s.memory.total),
  ]);
  out.push(
    ...table(['stage', 'layers', 'holds', 'params/rank', 'params', 'grads', 'adam m+v', 'activations', 'total'], rows),
  );
  if (plan.zeroStageRun >= 2) {
    const which = plan.zeroStageRun === 3 ? 'params and grads each include' : 'grads include';
    const sizes = plan.stages.map((s) => `stage ${s.stage} ${fmtBytes(s.memory.window)}`).join(', ');
    out.push(`  ZeRO-${plan.zeroStageRun}: ${which} a window (embedding/final norm/head + one layer): ${sizes}`);
  }
  if (plan.half?.storage.weights) {
    const sizes = plan.stages
      .map((s) => `stage ${s.stage} ${fmtBytes(s.memory.halfWeights)} + ${fmtBytes(s.memory.window)}`)
      .join(', ');
    out.push(
      `  ${plan.half.format} weights: params = f32 master + packed 16-bit copy + f32 window ` +
        `(embedding/final norm/head + one layer): ${sizes}`,
    );
  }

  out.push(
    '',
    'schedule (Fi/Bi forward/backward of microbatch i [.chunk]; sa3→2 send activation 3 to stage 2; rg3←2 receive grad 3 from stage 2)',
  );
  for (const s of plan.stages) {
    out.push(
      `  stage ${s.stage}: ${s.schedule.filter(isCompute).length} computes, ${s.schedule.length - s.schedule.filter(isCompute).length} transfers, at most ${s.peakInFlight} microbatch${s.peakInFlight === 1 ? '' : 'es'} in flight`,
    );
    out.push(...wrap('   ', s.schedule.map(shortLabel)));
  }
  out.push(...timeline(plan));
  if (warnings.length > 0) out.push('', `warnings (${warnings.length})`, ...warnings.map((w) => `  - ${w}`));
  return `${out.join('\n')}\n`;
}

function shortLabel(op: ScheduleOp): string {
  if (isCompute(op)) return computeLabel(op);
  const chunk = op.chunk === undefined ? '' : `.${op.chunk}`;
  const what = op.what === 'activation' ? 'a' : 'g';
  return op.kind === 'send'
    ? `s${what}${op.microbatch}${chunk}→${op.peerStage}`
    : `r${what}${op.microbatch}${chunk}←${op.peerStage}`;
}

function gridPicture(plan: Plan): string[] {
  const cell = String(plan.world - 1).length;
  const boxes = plan.stages.map((s) => {
    const rows = Array.from(
      { length: plan.dp },
      (_, d) =>
        ' ' +
        Array.from({ length: plan.tp }, (_, t) =>
          String(t + plan.tp * d + plan.tp * plan.dp * s.stage).padStart(cell),
        ).join(' ') +
        ' ',
    );
    const title = ` stage ${s.stage} `;
    const inner = Math.max(title.length, rows[0].length);
    return [
      `┌${title}${'─'.repeat(inner - title.length)}┐`,
      ...rows.map((r) => `│${r.padEnd(inner)}│`),
      `└${'─'.repeat(inner)}┘`,
    ];
  });
  const lines: string[] = [];
  for (let i = 0; i < boxes.length; ) {
    let used = 0,
      j = i;
    while (j < boxes.length && (j === i || used + boxes[j][0].length + 1 <= WIDTH)) used += boxes[j++][0].length + 1;
    const band = boxes.slice(i, j);
    const height = Math.max(...band.map((b) => b.length));
    for (let r = 0; r < height; r++)
      lines.push(
        '  ' +
          band
            .map((b) => b[r] ?? ' '.repeat(b[0].length))
            .join(' ')
            .trimEnd(),
      );
    i = j;
  }
  return lines;
}

/** One row per stage, one character per time unit (forward 1, backward 2): F, B, or · idle. */
function timeline(plan: Plan): string[] {
  const layout: ChunkLayout = { pp: plan.pp, virtualChunks: plan.virtualChunks };
  const timed = timeSchedule(
    layout,
    plan.stages.map((s) => s.schedule.filter(isCompute)),
    DEFAULT_DURATIONS,
  );
  const span = Math.max(...timed.map((t) => t[t.length - 1]?.end ?? 0));
  if (span > 2 * WIDTH) return ['', `timeline omitted (${span} time units; forward 1, backward 2)`];
  const lines = ['', 'timeline (forward 1 unit, backward 2; · idle)'];
  timed.forEach((list, s) => {
    const row = new Array<string>(span).fill('·');
    for (const t of list) for (let x = t.start; x < t.end; x++) row[x] = t.op.kind === 'forward' ? 'F' : 'B';
    lines.push(`  stage ${String(s).padStart(String(plan.pp - 1).length)} ${row.join('')}`);
  });
  return lines;
}

function wrap(prefix: string, items: string[]): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const it of items) {
    if (line.length + 1 + it.length > WIDTH && line.trim() !== prefix.trim()) {
      lines.push(line);
      line = ' '.repeat(prefix.length);
    }
    line += ` ${it}`;
  }
  lines.push(line);
  return lines;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => `  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  return [fmt(head), ...rows.map(fmt)];
}

export function fmtCount(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) if (n >= v) return `${(n / v).toFixed(2)}${u}`;
  return String(Math.round(n));
}

export function fmtBytes(b: number): string {
  const units: [number, string][] = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [v, u] of units) if (b >= v) return `${(b / v).toFixed(2)} ${u}`;
  return `${Math.round(b)} B`;
}

/** What the memory table's bytes hold: f32, or what fp16 / bf16 keep in 16 bits. */
function precisionText(plan: Plan): string {
  if (!plan.half) return 'f32';
  const { format, storage } = plan.half;
  const half = [...(storage.weights ? ['weights'] : []), ...(storage.activations ? ['activations'] : [])];
  return half.length ? `${format} ${half.join(' and ')}, the rest f32` : `${format} on the wire only, f32 in memory`;
}

/** The ZeRO stage configured and the one that runs (memory above and below is the latter's). */
function zeroText(plan: Plan): string {
  const run = plan.zeroStageRun;
  const over = `over DP ${plan.dp}`;
  const what = [
    "no sharding: every rank holds Adam's m and v for its parameters",
    `Adam's m and v sharded ${over}; parameters and gradients whole on every rank`,
    `Adam's m and v and the gradients sharded ${over}: each layer's gradients are reduce-scattered ` +
      'right after its backward (every micro-batch) from a one-layer window; parameters whole on every rank',
    `Adam's m and v, the gradients and the parameters sharded ${over}: each layer's parameters are ` +
      'all-gathered into a one-layer window just before its forward and again before its backward; gradients as stage 2',
  ][run];
  if (plan.zeroStage === run) return `stage ${run}: ${what}`;
  return `stage ${plan.zeroStage} runs as stage ${run} (DP ${plan.dp}: nothing to shard): ${what}`;
}
