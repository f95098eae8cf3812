// Where each run's checkpoints live: its NeoX `save` directory (written through a
// CheckpointWriter: a checkpoint iteration appears only when every rank's file is in) or,
// without `save`, <data dir>/checkpoints/<run id>; and its `load` directory, read-only.
// Relative `save`/`load` paths resolve against the coordinator's working directory, as NeoX
// resolves them against the directory it is launched from. Runs that name the same directory
// share one writer, so their puts are serialised.

import { isAbsolute, join, resolve } from 'node:path';
import { fsCheckpointStore } from '../src/checkpoint/fs-store';
import type { CheckpointLayout } from '../src/checkpoint/layout';
import type { CheckpointWriter } from '../src/checkpoint/store';
import { HttpError } from './errors';
import type { RunManager } from './lifecycle';
import type { Run } from './store';

export type CheckpointSource = 'save' | 'load';

export class RunCheckpoints {
  private readonly stores = new Map<string, CheckpointWriter>();

  constructor(
    private readonly runs: RunManager,
    private readonly dataDir: string,
  ) {}

  /** The layout the run trains in now (every rank file must be saved under it). */
  layout(run: Run): CheckpointLayout {
    const v = this.runs.currentView(run);
    const zero = run.config.zero_optimization as { stage?: number } | undefined;
    // the stage the ranks run (and write their files for): with one replica there is nothing to shard
    const zeroStage = v.dp > 1 ? (zero?.stage ?? 0) : 0;
    return { tp: v.tp, pp: v.pp, dp: v.dp, zeroStage, world: v.world };
  }

  /** Steps of the complete checkpoints in the run's save and load directories. */
  async completeSteps(run: Run): Promise<{ save: number[]; load: number[] }> {
    const steps = async (source: CheckpointSource): Promise<number[]> => {
      if (!this.dir(run, source)) return [];
      try {
        const { store } = this.store(run, source);
        const out: number[] = [];
        for (const it of await store.iterations()) {
          const m = await store.manifest(it);
          if (m) out.push(m.step);
        }
        return out;
      } catch {
        return []; // an unreadable directory offers nothing to resume from
      }
    };
    return { save: await steps('save'), load: await steps('load') };
  }

  dir(run: Run, source: CheckpointSource): string | null {
    const configured = run.config[source];
    if (typeof configured === 'string' && configured.trim() !== '')
      return isAbsolute(configured) ? configured : resolve(configured);
    return source === 'save' ? join(this.dataDir, 'checkpoints', run.id) : null;
  }

  store(run: Run, source: CheckpointSource): { store: CheckpointWriter; dir: string } {
    const dir = this.dir(run, source);
    if (!dir) throw new HttpError(404, 'no_load_dir', `run ${run.id} has no \`load\` directory in its config`);
    const key = `${source}:${dir}`;
    let store = this.stores.get(key);
    if (!store) this.stores.set(key, (store = fsCheckpointStore(dir, { readOnly: source === 'load' })));
    return { store, dir };
  }
}
