// An elastic run in one worker: "tabs" are ElasticRank instances over loopback transports
// (one loopback world per generation), driven by the planner the coordinator uses
// (src/parallel/recovery-plan.ts). Failures are injected: a tab closes mid-step (its
// transport closes at its n-th network operation of a step), a tab reloads (a fresh
// ElasticRank that keeps only its snapshot store and comes back to its rank), a tab joins.
// Used by e2e/elastic.spec.ts to prove the numbers equal an uninterrupted run's.
import { memoryCheckpointStore } from '../../src/checkpoint';
import { createLoopbackWorld } from '../../src/comm/loopback';
import type { GpuContext } from '../../src/gpu/context';
import { type Member, planRecovery } from '../../src/parallel/recovery-plan';
import type { ElasticLayout, HaltReport } from '../../src/protocol';
import { directComm, type RankComm } from '../../src/train/distributed/rank-comm';
import { ElasticRank, type GenerationOutcome } from '../../src/train/elastic/elastic-rank';
import { HaltSignal, haltable } from '../../src/train/elastic/halt';
import { configuredLayout } from '../../src/train/elastic/layout';
import { MemorySnapshotStore } from '../../src/train/elastic/snapshots';
import type { TrainEvent } from '../../src/train/events';
import { openRankData } from '../../src/data/rank-data';
import { modelSpec, type TrainConfig } from '../../src/train/setup';

export type Injection =
  /** the tab holding `rank` goes away at its `op`-th network operation of step `step` */
  | { kind: 'close' | 'reload'; rank: number; step: number; op: number }
  /** a new tab joins once rank 0 has finished `step`; the run reconfigures to use it */
  | { kind: 'join'; step: number };

export interface ElasticScenario {
  world: number;
  /** tabs beyond the world's ranks at the start */
  standbys: number;
  injections: Injection[];
  /** NeoX save every this many steps into an in-memory store (0: none) */
  checkpointEvery: number;
  snapshotInterval: number | null;
  maxSteps: number;
}

export interface ElasticRecord {
  generation: number;
  layout: ElasticLayout;
  step: number;
  restoredFrom: string;
  sources: string[];
  /** the last step every rank had finished before this generation (what a rollback gives up) */
  committed: number;
}

export interface ElasticResult {
  /** the last loss rank 0 reported for each step (index step - 1) */
  losses: number[];
  generations: ElasticRecord[];
  events: TrainEvent[];
}

interface Tab {
  id: string;
  rank: ElasticRank;
  snapshots: MemorySnapshotStore;
  /** the rank it held in the last generation it took part in (null: standby) */
  held: number | null;
  report: HaltReport | null;
  gone: boolean;
}

/** `comm` that, when `due()` names an injection, runs `fire` at that network operation. */
function injected(comm: RankComm, due: () => { op: number } | null, fire: () => void): RankComm {
  let ops = 0;
  const tick = <T>(f: () => Promise<T>): Promise<T> => {
    const inj = due();
    if (inj && ++ops >= inj.op) fire();
    return f();
  };
  return {
    rank: comm.rank,
    allReduce: (a, g, op) => tick(() => comm.allReduce(a, g, op)),
    reduceScatter: (a, g, op) => tick(() => comm.reduceScatter(a, g, op)),
    allGather: (a, g) => tick(() => comm.allGather(a, g)),
    broadcast: (a, g, root) => tick(() => comm.broadcast(a, g, root)),
    send: (to, tag, a) => tick(() => comm.send(to, tag, a)),
    recv: (from, tag, bytes) => tick(() => comm.recv(from, tag, bytes)),
  };
}

export async function runElastic(
  ctx: GpuContext,
  config: TrainConfig,
  text: string,
  sc: ElasticScenario,
): Promise<ElasticResult> {
  const corpus = await openRankData(config, { kind: 'text', text });
  const spec = modelSpec(config, corpus.tokenizer);
  const save = sc.checkpointEvery > 0 ? memoryCheckpointStore() : undefined;
  const losses: number[] = [];
  const events: TrainEvent[] = [];
  let tabCount = 0;
  const tabs: Tab[] = [];
  const newTab = (snapshots = new MemorySnapshotStore()): Tab => {
    const tab: Tab = { id: `tab${tabCount++}`, snapshots, held: null, report: null, gone: false } as Tab;
    tab.rank = new ElasticRank(ctx, {
      runId: 'elastic',
      config,
      spec,
      corpus,
      emit: (e) => {
        events.push(e);
        if (e.kind === 'step' && tab.held === 0 && !tab.gone) losses[e.step - 1] = e.loss;
      },
      checkpoints: save ? { save, every: sc.checkpointEvery } : {},
      snapshots,
      snapshotInterval: sc.snapshotInterval,
      maxSteps: sc.maxSteps,
    });
    tabs.push(tab);
    return tab;
  };
  for (let i = 0; i < sc.world + sc.standbys; i++) newTab();
  const configured = configuredLayout(config, sc.world);
  const pending = [...sc.injections];
  const generations: ElasticRecord[] = [];
  let current: ElasticLayout | null = null;
  let committed = 0;
  for (let generation = 1; ; generation++) {
    const members: Member[] = tabs.filter((t) => !t.gone).map((t) => ({ id: t.id, rank: t.held, report: t.report }));
    const plan = planRecovery({
      configured,
      current,
      zero: (config.zero_optimization?.stage ?? 0) >= 1,
      members,
      checkpoints: { save: save ? await save.iterations() : [], load: [] },
    });
    if (plan.kind === 'wait') throw new Error(`generation ${generation}: ${plan.reason}`);
    generations.push({
      generation,
      layout: plan.layout,
      step: plan.step,
      restoredFrom: plan.restoredFrom,
      sources: plan.assignments.map((a) => `${a.rank}:${a.restore.kind}`),
      committed,
    });
    for (const t of tabs) {
      t.held = null;
      t.report = null;
    }
    const loop = createLoopbackWorld(plan.layout.tp * plan.layout.pp * plan.layout.dp);
    const halts: HaltSignal[] = [];
    const lastStep = new Map<number, number>();
    let ready = 0;
    let startAll!: () => void;
    const started = new Promise<void>((r) => {
      startAll = r;
    });
    const outcomes = await Promise.all(
      plan.assignments.map(async (a): Promise<GenerationOutcome | null> => {
        const tab = tabs.find((t) => t.id === a.member)!;
        tab.held = a.rank;
        const halt = new HaltSignal();
        halts.push(halt);
        let inStep = plan.step + 1;
        lastStep.set(a.rank, plan.step);
        const due = () => {
          const inj = pending[0];
          return inj && inj.kind !== 'join' && inj.rank === a.rank && inj.step === inStep ? inj : null;
        };
        const fire = () => {
          const inj = pending.shift() as Extract<Injection, { rank: number }>;
          tab.gone = true;
          loop.disconnect(a.rank);
          // the coordinator sees the tab's socket close and halts every rank of the generation
          for (const h of halts) h.halt(`rank ${a.rank} ${inj.kind === 'close' ? 'closed' : 'reloaded'}`);
          if (inj.kind === 'reload') {
            const back = newTab(tab.snapshots);
            back.held = a.rank; // the coordinator keeps a reloading tab's rank for it
          }
        };
        const out = await tab.rank.runGeneration(
          { generation, step: plan.step, layout: plan.layout, restore: a.restore, donate: a.donate },
          a.rank,
          {
            comm: haltable(injected(directComm(loop.transports[a.rank]), due, fire), halt),
            halt,
            ready: () => {
              if (++ready === plan.assignments.length) startAll();
            },
            started,
            onStep: (step) => {
              inStep = step + 1;
              lastStep.set(a.rank, step);
              const inj = pending[0];
              if (inj?.kind === 'join' && a.rank === 0 && step >= inj.step) {
                pending.shift();
                newTab();
                for (const h of halts) h.halt('a tab joined');
              }
            },
          },
        );
        if (tab.gone) return null;
        // a rank that stopped on a failed peer tells the coordinator, which halts the others
        if (out.kind === 'halted') for (const h of halts) h.halt(`rank ${a.rank} halted: ${out.reason}`);
        tab.report = out.kind === 'halted' ? out.report : null;
        return out;
      }),
    );
    current = plan.layout;
    committed = Math.min(...lastStep.values());
    // a reloaded tab comes back holding its rank, with nothing in memory but its snapshots
    for (const t of tabs.filter((x) => !x.gone && x.held !== null && x.report === null)) {
      const out = outcomes[plan.assignments.findIndex((a) => a.member === t.id)];
      if (out === undefined)
        t.report = { step: null, reachable: [], snapshots: await t.rank.snapshotSteps(plan.layout, t.held!) };
    }
    const live = outcomes.filter((o): o is GenerationOutcome => o !== null);
    const failed = live.find((o) => o.kind !== 'done' && o.kind !== 'halted');
    if (failed) throw new Error(`generation ${generation}: ${JSON.stringify(failed)}`);
    if (live.length === outcomes.length && live.every((o) => o.kind === 'done')) break;
  }
  return { losses, generations, events };
}
