// TrainEvents → the coordinator's `progress` messages. A step's message waits until the
// rank knows whether a validation loss comes with it (the eval right after that step), so
// the last step's message carries the final validation loss: the coordinator ends the run
// when every rank has reported its last step, and nothing may be lost after that.
// A step's op timeline goes out as a `spans` message (the admin page's pipeline timeline), the
// traffic with each peer since the last step as a `links` message (when the page gives its
// transport's meter), a local-SGD sync as a `round` message and a saved checkpoint file as a
// `checkpoint` message.
import type { LinkStats } from '../comm/link-meter';
import type { Span, TabMessage } from '../protocol';
import type { TrainEvent } from '../train/events';
import { linksMessage, roundMessage } from './link-report';

export type Progress = Extract<TabMessage, { type: 'progress' }>;
type Report = Progress | Extract<TabMessage, { type: 'spans' | 'checkpoint' | 'links' | 'round' | 'sample' }>;

const MAX_SPANS = 512;

export class ProgressReport {
  private pending: Progress | null = null;

  /** `links`: the traffic since its previous call (the page's `transport.meter.take()`) */
  constructor(
    private readonly send: (m: Report) => void,
    private readonly links?: () => readonly LinkStats[],
  ) {}

  /** Feeds one event; sends whatever became complete. */
  add(e: TrainEvent): void {
    switch (e.kind) {
      case 'step':
        this.flush();
        if (e.breakdown?.spans?.length) {
          const spans: Span[] = e.breakdown.spans.slice(0, MAX_SPANS).map((sp) => ({
            kind: sp.kind,
            microbatch: sp.microbatch,
            startMs: Math.max(0, sp.startMs),
            endMs: Math.max(0, sp.endMs, sp.startMs),
          }));
          this.send({ type: 'spans', step: e.step, spans });
        }
        if (this.links) {
          const traffic = linksMessage(this.links());
          if (traffic) this.send(traffic);
        }
        this.pending = {
          type: 'progress',
          step: e.step,
          loss: finite(e.loss),
          lr: finite(e.lr),
          tokensPerSec: Number.isFinite(e.tokensPerSec) ? Math.max(0, e.tokensPerSec) : undefined,
          timings: { stepMs: Math.max(0, e.ms) },
          ...(e.lossScale !== undefined ? { lossScale: e.lossScale } : {}),
          ...(e.skipped ? { skipped: true } : {}),
        };
        return;
      case 'eval':
        if (e.split !== 'valid') return;
        if (this.pending?.step === e.step) this.pending.valLoss = finite(e.loss);
        else {
          this.flush();
          this.pending = { type: 'progress', step: e.step, valLoss: finite(e.loss) };
        }
        this.flush();
        return;
      case 'checkpoint':
        if (e.action === 'saved' && e.file)
          this.send({ type: 'checkpoint', step: e.step, name: e.file, bytes: e.bytes ?? 0, sha256: e.sha256 });
        return;
      case 'round':
        this.send(roundMessage(e));
        return;
      case 'sample':
        this.send({ type: 'sample', step: e.step, prompt: e.prompt.slice(0, 2000), text: e.text.slice(0, 4000) });
        return;
      case 'done':
        this.flush();
        // a rank that had nothing left to train (it resumed at its last step) still says where it ended:
        // the run finishes once every rank reported train_iters
        if (this.sentStep < e.step) this.send({ type: 'progress', step: e.step });
        return;
      case 'error':
        this.flush();
        return;
      case 'start':
      case 'restored':
        return;
    }
  }

  flush(): void {
    if (!this.pending) return;
    const m = this.pending;
    this.pending = null;
    this.sentStep = Math.max(this.sentStep, m.step);
    this.send(m);
  }

  /** the highest step a progress message went out for */
  private sentStep = -1;
}

/** The protocol takes finite numbers only: a NaN loss is left out (the rank reports the error). */
function finite(x: number): number | undefined {
  return Number.isFinite(x) ? x : undefined;
}
