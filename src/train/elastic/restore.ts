// Getting a rank's state for a generation from where the coordinator said, then handing it
// to the ranks that restore from this one (it is their data-parallel peer).
import { type CheckpointStore, loadFromStore } from '../../checkpoint';
import type { GenerationPlan } from '../../protocol';
import type { RankComm } from '../distributed/rank-comm';
import type { TrainEvent } from '../events';
import type { RankModel } from './rank-model';
import { decodeRankState, encodeRankState, readRankState, writeRankState } from './rank-state';
import type { SnapshotStore } from './snapshots';

export interface RestoreContext {
  comm: RankComm;
  runId: string;
  checkpoints?: { save?: CheckpointStore; load?: CheckpointStore };
  snapshots: SnapshotStore | null;
  emit: (e: TrainEvent) => void;
}

const stateTag = (generation: number) => `state:g${generation}`;

export async function restoreState(m: RankModel, plan: GenerationPlan, x: RestoreContext): Promise<void> {
  const t = m.trainer;
  const r = plan.restore;
  switch (r.kind) {
    case 'keep':
      break; // done by the caller (one step of undo, before any rebuild)
    case 'init':
      m.initialize();
      break;
    case 'dp-peer': {
      const got = await x.comm.recv(r.from, stateTag(plan.generation));
      writeRankState(t, decodeRankState(got, `rank ${r.from}`));
      break;
    }
    case 'local': {
      const key = m.snapshotKey(x.runId);
      const snap = await x.snapshots?.get(key, plan.step);
      if (!snap) throw new Error(`no local snapshot of step ${plan.step} for ${key}`);
      writeRankState(t, snap);
      break;
    }
    case 'checkpoint': {
      const store = x.checkpoints?.[r.source];
      if (!store) throw new Error(`generation ${plan.generation}: no '${r.source}' checkpoint store on this rank`);
      const init = m.initialize(); // rows only the target has (a larger padded vocabulary) keep their init
      const st = await loadFromStore(
        store,
        { spec: m.spec, stage: m.where.stage, tp: m.where.tp, optRange: t.optRange, init },
        r.iteration,
      );
      t.loadParams(st.params);
      t.loadMoments(st.m, st.v);
      // mixed precision: the checkpoint's skipped steps and loss scaler (an f32 one has none: fresh)
      const fresh = t.hostState();
      t.loadHostState({
        step: st.step,
        skippedSteps: st.training?.skippedSteps ?? 0,
        scaler: st.training?.lossScaler ?? fresh.scaler,
      });
      x.emit({
        kind: 'checkpoint',
        action: 'loaded',
        step: st.step,
        iteration: st.iteration,
        files: st.fetched.length,
      });
      break;
    }
  }
  if (plan.donate.length > 0) {
    const bytes = encodeRankState(await readRankState(t));
    await Promise.all(plan.donate.map((to) => x.comm.send(to, stateTag(plan.generation), bytes)));
  }
}
