// The readable form of bench/train-layouts.ts's result (without --json): one line per layout,
// one per stage under it, and the pipeline efficiencies against the ideal.
import type { LayoutNumbers } from './analyze';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pad = (s: string | number, n: number) => String(s).padStart(n);

export function renderTable(
  head: { machine: string; adapter: string; model: string; note: string },
  layouts: LayoutNumbers[],
): string {
  const lines = [
    `machine: ${head.machine}`,
    `adapter: ${head.adapter}`,
    `model:   ${head.model}`,
    `note:    ${head.note}`,
    '',
  ];
  lines.push(
    `${'layout'.padEnd(10)} ${pad('world', 5)} ${pad('m', 3)} ${pad('tokens/s', 9)} ${pad('step ms', 9)}   per stage: compute / p2p / all-reduce / optimizer ms`,
  );
  for (const l of layouts) {
    lines.push(
      `${l.name.padEnd(10)} ${pad(l.world, 5)} ${pad(l.m, 3)} ${pad(l.tokens_per_s.toFixed(1), 9)} ${pad(l.step_ms.toFixed(0), 9)}`,
    );
    for (const s of l.stages) {
      lines.push(
        `${''.padEnd(42)}stage ${s.stage} (ranks ${s.ranks.join(',')}): ${s.compute_ms.toFixed(0)} / ${s.p2p_ms.toFixed(0)} / ${s.allreduce_ms.toFixed(0)} / ${s.optimizer_ms.toFixed(0)}`,
      );
    }
  }
  const pipes = layouts.filter((l) => l.pipeline);
  if (pipes.length > 0) {
    lines.push(
      '',
      `${'pipeline'.padEnd(10)} ${pad('ideal', 7)} ${pad('shared', 8)} ${pad('÷ideal', 7)} ${pad('useful', 8)} ${pad('÷ideal', 7)} ${pad('own-dev', 8)} ${pad('÷ideal', 7)} ${pad('balanced', 9)} ${pad('÷ideal', 7)}`,
    );
    for (const l of pipes) {
      const p = l.pipeline!;
      lines.push(
        `${l.name.padEnd(10)} ${pad(pct(p.ideal), 7)} ${pad(pct(p.efficiency_measured_shared), 8)} ${pad(p.ratio_measured_shared.toFixed(2), 7)} ${pad(pct(p.efficiency_useful_shared), 8)} ${pad(p.ratio_useful_shared.toFixed(2), 7)} ${pad(pct(p.efficiency_own_compute), 8)} ${pad(p.ratio_own_compute.toFixed(2), 7)} ${pad(pct(p.efficiency_own_balanced), 9)} ${pad(p.ratio_own_balanced.toFixed(2), 7)}`,
      );
    }
    lines.push(
      "shared: Σ stage compute / (P × step) as measured, ranks sharing one device; useful: the same with each stage's own compute;",
    );
    lines.push(
      'own-dev: replay of the measured op times as if each stage had its own device (schedule only); balanced: the same with equal stages.',
    );
  }
  return lines.join('\n');
}
