// What the coordinator does with each message a tab sends after its hello.

import { assertNever, type TabMessage } from '../src/protocol';
import type { RunManager } from './lifecycle';
import type { MetricPoint } from './metrics-store';
import { coordsOf } from './planning';

type Point = Omit<MetricPoint, 'id' | 'at'>;

/** Messages only a rank holder may send. */
const RANK_ONLY = new Set<TabMessage['type']>([
  'ready',
  'progress',
  'spans',
  'links',
  'round',
  'checkpoint',
  'halted',
  'restored',
  'sample',
]);

export function handleTabMessage(
  runs: RunManager,
  participantId: string,
  msg: Exclude<TabMessage, { type: 'hello' }>,
): void {
  const p = runs.store.getParticipant(participantId);
  if (!p || p.state === 'left') return;
  runs.store.touch(p.id);
  const rank = p.rank;
  if (RANK_ONLY.has(msg.type) && rank === null) {
    runs.send(p.id, {
      type: 'error',
      code: 'not_ranked',
      message: `'${msg.type}' needs a rank; this tab is a standby`,
      fatal: false,
    });
    return;
  }
  switch (msg.type) {
    case 'ready':
      runs.markReady(p, msg.rank, msg.generation);
      return;
    case 'progress': {
      const points: Point[] = [];
      const add = (name: string, value: number | undefined) => {
        if (value !== undefined) points.push({ rank, step: msg.step, name, peerRank: null, value });
      };
      add('loss', msg.loss);
      add('val_loss', msg.valLoss);
      add('tokens_per_sec', msg.tokensPerSec);
      add('lr', msg.lr);
      add('forward_ms', msg.timings?.forwardMs);
      add('backward_ms', msg.timings?.backwardMs);
      add('comm_ms', msg.timings?.commMs);
      add('optimizer_ms', msg.timings?.optimizerMs);
      add('step_ms', msg.timings?.stepMs);
      add('loss_scale', msg.lossScale);
      add('skipped_step', msg.skipped === undefined ? undefined : 1);
      runs.metrics.add(p.runId, points);
      if (msg.timings?.stepMs !== undefined) runs.noteStepMs(p.runId, msg.timings.stepMs);
      runs.reportStep(p, msg.step);
      return;
    }
    case 'spans': {
      const stage = coordsOf(runs.view(runs.getRun(p.runId)), rank!).pp;
      runs.metrics.addSpans(p.runId, rank!, stage, msg.step, msg.spans);
      return;
    }
    case 'links': {
      // link_bytes: what this rank sent each peer. link_bytes_per_sec (rank → peerRank): measured
      // where the bytes arrived when the receiver says (bytesIn/msIn), else the sender's send time
      const step = runs.getRun(p.runId).step;
      const rate = (from: number, to: number, bytes: number, ms: number) =>
        ms > 0 ? [{ rank: from, step, name: 'link_bytes_per_sec', peerRank: to, value: bytes / (ms / 1000) }] : [];
      const received = msg.links.some((l) => l.msIn !== undefined);
      runs.metrics.add(
        p.runId,
        msg.links.flatMap((l) => [
          { rank, step, name: 'link_bytes', peerRank: l.peerRank, value: l.bytes },
          ...(received ? rate(l.peerRank, rank!, l.bytesIn ?? 0, l.msIn ?? 0) : rate(rank!, l.peerRank, l.bytes, l.ms)),
        ]),
      );
      return;
    }
    case 'round': {
      const at = { rank, step: msg.step, peerRank: null };
      runs.metrics.add(p.runId, [
        { ...at, name: 'round_bytes', value: msg.bytes },
        { ...at, name: 'outer_delta_norm', value: msg.deltaNorm },
        { ...at, name: 'outer_update_norm', value: msg.updateNorm },
        { ...at, name: 'round_ms', value: msg.ms },
      ]);
      return;
    }
    case 'checkpoint':
      runs.metrics.addCheckpoint(p.runId, {
        rank: rank!,
        step: msg.step,
        name: msg.name,
        bytes: msg.bytes,
        sha256: msg.sha256 ?? null,
      });
      return;
    case 'visibility':
      runs.store.setHidden(p.id, msg.hidden);
      runs.store.addEvent(p.runId, msg.hidden ? 'hidden' : 'visible', p.id);
      return;
    case 'log':
      runs.log[msg.level]({ run: p.runId, participant: p.id, rank }, `tab: ${msg.message}`);
      return;
    case 'leave':
      runs.leave(p.id, msg.reason ?? 'left');
      return;
    case 'sample':
      // one voice per run: global rank 0 decodes the sample, the other ranks only help compute it
      if (rank === 0) runs.store.addSample(p.runId, msg.step, msg.prompt, msg.text);
      return;
    case 'halted':
      runs.halted(p, msg.generation, msg.report, msg.reason);
      return;
    case 'restored':
      runs.store.addEvent(
        p.runId,
        'restored',
        `rank ${rank} (${p.id}): step ${msg.step} from ${msg.from} in ${(msg.ms / 1000).toFixed(2)} s (generation ${msg.generation})`,
      );
      return;
    case 'ping':
      runs.send(p.id, { type: 'pong', t: msg.t });
      return;
    default:
      assertNever(msg, 'tab message');
  }
}
