// npm run bench:churn -- [--json] [--only tp2-pp2,pp2-dp2,pp2-dp2-shrink] [--steps N]
//
// Runs multi-tab training (real Chromium tabs, WebRTC, a coordinator process) while volunteers
// come and go: a rank's page closed mid-step, another reloaded, a third crashed
// (chrome://crash), the coordinator killed (SIGKILL) and restarted; and a run without a
// standby that shrinks to one replica and grows back when a tab joins. Each layout also runs
// uninterrupted; every step's loss is compared with it. Prints one JSON object:
//   {"runs": [{"layout", "tabs", "steps", "events": [{"kind", "step", "rank", "restored_from",
//     "rollback_steps", "recovery_s"}], "completed", "max_loss_rel_diff", "wall_s_uninterrupted",
//     "wall_s"}, ...]}
// recovery_s runs from the moment the event was done to the moment every rank trains again.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { RecoveryRow } from '../coordinator/store';
import { type AppliedEvent, type ChurnEvent, type ChurnResult, runChurn } from '../src/node/churn';

interface Scenario {
  name: string;
  layout: string;
  /** NeoX settings on top of configs/tiny-3d.yml */
  settings: string;
  tabs: number;
  events: ChurnEvent[];
}

const cli = new Command('bench:churn')
  .option('--json', 'print only the JSON result')
  .option('--only <names>', 'comma-separated scenarios')
  .option('--steps <n>', 'training steps per run', '16')
  .option('--reconnect-grace-ms <ms>', "the coordinator's reconnect grace for a closed tab", '4000')
  .parse();
const opts = cli.opts<{ json?: boolean; only?: string; steps: string; reconnectGraceMs: string }>();
const steps = Number(opts.steps);
const say = (s: string) => {
  if (!opts.json) console.error(s);
};

const TP2PP2 = 'model_parallel_size: 2\npipe_parallel_size: 2\nglobal_num_gpus: 4\n';
const PP2DP2 = 'model_parallel_size: 1\npipe_parallel_size: 2\nglobal_num_gpus: 4\n';
const scenarios: Scenario[] = [
  {
    name: 'tp2-pp2',
    layout: 'tp2-pp2',
    settings: TP2PP2,
    tabs: 5,
    events: [
      { kind: 'close', step: 3, rank: 3 },
      { kind: 'reload', step: 6, rank: 1 },
      { kind: 'crash', step: 9, rank: 2 },
      { kind: 'join', step: 9 }, // no standby is left after the close: the run waits for a tab (DP = 1)
      { kind: 'coordinator-restart', step: 12 },
    ],
  },
  {
    name: 'pp2-dp2',
    layout: 'pp2-dp2',
    settings: PP2DP2,
    tabs: 5,
    events: [
      { kind: 'close', step: 3, rank: 3 },
      { kind: 'reload', step: 6, rank: 1 },
      { kind: 'crash', step: 9, rank: 2 }, // no standby left: the run shrinks to one replica
      { kind: 'coordinator-restart', step: 11 },
      { kind: 'join', step: 13 }, // and grows back
    ],
  },
  {
    name: 'pp2-dp2-shrink',
    layout: 'pp2-dp2',
    settings: PP2DP2,
    tabs: 4,
    events: [
      { kind: 'close', step: 3, rank: 1 },
      { kind: 'join', step: 7 },
    ],
  },
];

const tiny = { file: 'configs/tiny-3d.yml', text: readFileSync('configs/tiny-3d.yml', 'utf8') };

async function run(s: Scenario, events: ChurnEvent[], saveDir: string): Promise<ChurnResult> {
  const text = `${s.settings}train_iters: ${steps}\nlr_decay_iters: ${steps}\neval_interval: 8\nsave: ${saveDir}\ncheckpoint_factor: 2\nsnapshot_interval: 1\n`;
  return runChurn({
    sources: [tiny, { file: `${s.name}.yml`, text }],
    tabs: s.tabs,
    events,
    coordinatorArgs: ['--reconnect-grace-ms', opts.reconnectGraceMs],
    log: (l) => {
      if (/\[churn\]|error|Error/.test(l)) say(`  ${l}`);
    },
  });
}

/** The recovery each event caused: for a tab that went, the one that lost its participant; for a
 *  reload, the next one to begin; for a coordinator restart, its own record; a tab joining may
 *  have ended a recovery that was waiting for it (then it has none of its own). */
function matchRecoveries(
  applied: AppliedEvent[],
  recoveries: RecoveryRow[],
): { ev: AppliedEvent; r: RecoveryRow | null }[] {
  const free = recoveries.filter((r) => r.cause !== 'start' && r.finishedAt !== null);
  const claim = (pred: (r: RecoveryRow) => boolean): RecoveryRow | null => {
    const i = free.findIndex(pred);
    return i < 0 ? null : free.splice(i, 1)[0];
  };
  return applied.flatMap((ev): { ev: AppliedEvent; r: RecoveryRow | null }[] => {
    const after = (r: RecoveryRow) => r.startedAt >= ev.at - 1000;
    let r: RecoveryRow | null = null;
    if (ev.kind === 'close' || ev.kind === 'crash')
      r = claim((x) => x.lost.some((l) => l.participant === ev.participant));
    else if (ev.kind === 'coordinator-restart') r = claim((x) => x.cause === 'coordinator-restart' && after(x));
    else if (ev.kind === 'join') r = claim((x) => x.cause === 'grow' && after(x));
    else r = claim((x) => after(x) && x.cause !== 'coordinator-restart' && x.cause !== 'grow');
    if (!r && ev.kind === 'join') return [];
    return [{ ev, r }];
  });
}

const references = new Map<string, ChurnResult>();
const out: unknown[] = [];
for (const s of scenarios.filter((x) => !opts.only || opts.only.split(',').includes(x.name))) {
  const dir = mkdtempSync(join(tmpdir(), 'tabtron-bench-churn-'));
  try {
    let ref = references.get(s.layout);
    if (!ref) {
      say(`${s.layout}: uninterrupted run on ${s.tabs} tabs…`);
      ref = await run(s, [], join(dir, 'reference'));
      if (!ref.completed) throw new Error(`${s.layout}: the uninterrupted run did not finish: ${ref.error}`);
      references.set(s.layout, ref);
    }
    say(`${s.name}: run with ${s.events.map((e) => e.kind).join(', ')}…`);
    const r = await run(s, s.events, join(dir, 'churn'));
    const diffs = ref.losses.map((l, i) =>
      r.losses[i] === undefined ? Infinity : Math.abs(r.losses[i] - l) / Math.abs(l),
    );
    const events = matchRecoveries(r.applied, r.recoveries).map(({ ev, r: rec }) => ({
      kind: ev.kind,
      step: ev.step,
      rank: ev.rank ?? null,
      restored_from: rec ? (rec.restoredFrom ?? 'none') : null,
      rollback_steps: rec ? Math.max(0, rec.committedStep - (rec.resumeStep ?? rec.committedStep)) : null,
      recovery_s: rec?.finishedAt ? Math.round(((rec.finishedAt - ev.at) / 1000) * 100) / 100 : null,
      layout_after: rec?.layout ? `tp${rec.layout.tp}-pp${rec.layout.pp}-dp${rec.layout.dp}` : null,
    }));
    const row = {
      layout: s.layout,
      scenario: s.name,
      tabs: s.tabs,
      steps,
      events,
      completed: r.completed,
      error: r.error,
      max_loss_rel_diff: Math.max(...diffs),
      wall_s_uninterrupted: Math.round(ref.wallS * 10) / 10,
      wall_s: Math.round(r.wallS * 10) / 10,
      recoveries: r.recoveries
        .filter((x) => x.cause !== 'start')
        .map((x) => ({
          cause: x.cause,
          detail: x.detail,
          lost_ranks: x.lost.map((l) => l.rank),
          took_over: x.tookOver.map((t) => `${t.rank}:${t.from}`),
          restored_from: x.restoredFrom,
          committed_step: x.committedStep,
          resume_step: x.resumeStep,
          seconds: x.finishedAt ? (x.finishedAt - x.startedAt) / 1000 : null,
        })),
    };
    say(JSON.stringify(row));
    out.push(row);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const times = (out as { events: { recovery_s: number | null }[] }[])
  .flatMap((r) => r.events.map((e) => e.recovery_s))
  .filter((x): x is number => x !== null)
  .sort((a, b) => a - b);
const median = times.length ? times[Math.floor((times.length - 1) / 2)] : null;
console.log(JSON.stringify({ runs: out, median_recovery_s: median }));
