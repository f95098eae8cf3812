// Admin-facing views of a run, built from SQLite rows (no secrets leave through here).

import type { GridCell, ParticipantView, RunDetail, RunSummary } from './api-schemas';
import type { RunManager } from './lifecycle';
import { coordsOf } from './planning';
import type { Participant, Run } from './store';

export function participantView(p: Participant): ParticipantView {
  return {
    id: p.id,
    peerId: p.peerId,
    state: p.state,
    rank: p.rank,
    connected: p.connected,
    device: p.device,
    joinedAt: p.joinedAt,
    lastSeenAt: p.lastSeenAt,
    leftAt: p.leftAt,
  };
}

export function runSummary(runs: RunManager, run: Run): RunSummary {
  const v = runs.view(run);
  const active = runs.store.activeParticipants(run.id);
  const holders = active.filter((p) => p.rank !== null);
  return {
    id: run.id,
    name: run.name,
    state: run.state,
    stateReason: run.stateReason,
    paused: run.paused,
    step: run.step,
    sizes: { tp: v.tp, pp: v.pp, dp: v.dp, world: v.world },
    generation: run.generation,
    layout: run.layout,
    held: holders.length,
    ready: holders.filter((p) => p.state === 'ready' || p.state === 'training').length,
    standbys: active.length - holders.length,
    createdAt: run.createdAt,
  };
}

export function runDetail(runs: RunManager, run: Run): RunDetail {
  const v = runs.currentView(run);
  const all = runs.store.allParticipants(run.id);
  const byRank = new Map(all.filter((p) => p.rank !== null).map((p) => [p.rank!, p]));
  const grid: GridCell[] = Array.from({ length: v.world }, (_, rank) => {
    const holder = byRank.get(rank);
    return { rank, ...coordsOf(v, rank), participant: holder ? participantView(holder) : null };
  });
  return {
    run: runSummary(runs, run),
    joinToken: run.joinToken,
    config: run.config,
    plan: run.plan,
    sources: run.sources,
    grid,
    participants: all.map(participantView),
    checkpoints: runs.metrics.checkpoints(run.id),
    events: runs.store.events(run.id),
    recoveries: runs.store.recoveries(run.id).filter((r) => r.cause !== 'start'),
    samples: runs.store.samples(run.id),
  };
}
