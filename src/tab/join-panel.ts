// A contributor's view of joining a run: the WebGPU adapter and its limits, whether this
// browser can take part (and why not), the assigned rank and what it computes, the run's
// state and this tab's throughput. Everything is async and light, so the page never freezes.

import type { Assignment } from '../protocol';
import { BACKGROUND_WARNING, cannotTakePart, describeDevice } from './join-device';
import { JoinError, joinRun, type Control, type RunConnection } from './join';

export type PanelState =
  | 'checking'
  | 'unsupported'
  | 'joining'
  | 'standby'
  | 'assigned'
  | 'training'
  | 'paused'
  | 'stopped'
  | 'error';

export interface JoinPanelOptions {
  coordinatorUrl: string;
  runId: string;
  joinToken: string;
  /** Report `ready` as soon as a rank is assigned: for pages without a rank worker (tests). */
  autoReady?: boolean;
  onAssignment?: (a: Assignment, conn: RunConnection) => void;
  /** the membership generation this tab trains, told to the coordinator on every (re)connect */
  generation?: () => number;
  /** every control message; `conn` is null only before joining completes */
  onControl?: (msg: Control, conn: RunConnection | null) => void;
}

export interface JoinPanel {
  readonly state: PanelState;
  readonly connection: RunConnection | null;
  setThroughput(tokensPerSec: number): void;
}

function row(dl: HTMLElement, term: string, value: string): void {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value;
  dl.append(dt, dd);
}

export async function mountJoinPanel(host: HTMLElement, o: JoinPanelOptions): Promise<JoinPanel> {
  host.innerHTML = `<p class="join-status" data-state="checking">Checking WebGPU…</p>
    <p class="join-warning" role="alert" hidden></p>
    <dl class="join-device"></dl><dl class="join-rank"></dl><p class="join-throughput"></p>`;
  const status = host.querySelector<HTMLElement>('.join-status')!;
  const warning = host.querySelector<HTMLElement>('.join-warning')!;
  let state: PanelState = 'checking';
  let connection: RunConnection | null = null;
  const set = (s: PanelState, text: string) => {
    state = s;
    status.dataset.state = s;
    status.textContent = text;
  };
  const panel: JoinPanel = {
    get state() {
      return state;
    },
    get connection() {
      return connection;
    },
    setThroughput(tps) {
      host.querySelector('.join-throughput')!.textContent = `${tps.toFixed(0)} tokens/s`;
    },
  };

  const showBackground = () => {
    warning.hidden = document.visibilityState !== 'hidden';
    warning.textContent = warning.hidden ? '' : BACKGROUND_WARNING;
  };
  document.addEventListener('visibilitychange', showBackground);
  showBackground();

  const device = await describeDevice();
  const dl = host.querySelector<HTMLElement>('.join-device')!;
  if (device.adapter) {
    row(
      dl,
      'adapter',
      [device.adapter.vendor, device.adapter.architecture, device.adapter.description].filter(Boolean).join(' · ') +
        (device.adapter.isFallbackAdapter ? ' (software fallback)' : ''),
    );
  }
  for (const [k, v] of Object.entries(device.limits ?? {})) row(dl, k, v.toLocaleString());
  const why = cannotTakePart(device);
  if (why) {
    set('unsupported', why);
    return panel;
  }

  set('joining', 'Joining the run…');
  const showAssignment = (a: Assignment) => {
    const r = host.querySelector<HTMLElement>('.join-rank')!;
    r.replaceChildren();
    r.dataset.rank = String(a.rank);
    row(r, 'rank', `${a.rank} of ${a.sizes.world} (tp ${a.coords.tp}, pp ${a.coords.pp}, dp ${a.coords.dp})`);
    row(
      r,
      'computes',
      `layers ${a.layers.start}–${a.layers.end - 1} of pipeline stage ${a.coords.pp}, tensor shard ${a.shard.index + 1}/${a.shard.count}`,
    );
    row(
      r,
      'data',
      `replica ${a.data.dpRank + 1}/${a.data.dpSize}, ${a.data.microBatchSize} × ${a.data.seqLength} tokens per microbatch`,
    );
  };
  let pending: Assignment | null = null;
  const deliver = (a: Assignment, conn: RunConnection) => {
    pending = null;
    o.onAssignment?.(a, conn);
    if (o.autoReady) conn.ready();
  };
  try {
    connection = await joinRun({
      coordinatorUrl: o.coordinatorUrl,
      runId: o.runId,
      joinToken: o.joinToken,
      device,
      generation: o.generation,
      onAssignment: (a) => {
        showAssignment(a);
        set('assigned', `Assigned rank ${a.rank}; preparing…`);
        if (connection) deliver(a, connection);
        else pending = a;
      },
      onControl: (msg) => {
        switch (msg.type) {
          case 'standby':
            set('standby', `Waiting as standby #${msg.position}: for enough tabs to start, or for a free rank.`);
            break;
          case 'start':
          case 'resume':
            set('training', 'Training.');
            break;
          case 'pause':
            set('paused', `Paused: ${msg.reason}`);
            break;
          case 'stop':
            set('stopped', `The run stopped: ${msg.reason}`);
            break;
          case 'error':
            if (msg.fatal) set('error', msg.message);
            break;
          case 'generation':
            showAssignment(msg.assignment);
            set('assigned', `Rank ${msg.assignment.rank} (generation ${msg.plan.generation}); restoring…`);
            // a page without a rank worker (autoReady) answers the generation at once
            if (o.autoReady && connection) deliver(msg.assignment, connection);
            else if (o.autoReady) pending = msg.assignment;
            break;
          case 'halt':
            set('assigned', `The run is changing membership: ${msg.reason}`);
            break;
          case 'peers':
          case 'pong':
            break;
        }
        o.onControl?.(msg, connection);
      },
      onClosed: (reason) => {
        if (state !== 'stopped') set('error', `Disconnected: ${reason}`);
      },
    });
    if (pending) deliver(pending, connection); // it arrived before joinRun resolved
  } catch (e) {
    set('error', e instanceof JoinError ? `Cannot join: ${e.message}` : `Cannot join: ${(e as Error).message}`);
  }
  return panel;
}
