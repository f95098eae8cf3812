// Contributor page: checks WebGPU, shows the adapter, runs training in the rank worker
// (never on this thread) and shows live progress. Two modes:
//   ?run=<id>&token=<joinToken>  joins that run on this page's coordinator and trains the
//                                rank it is assigned, with its peers over WebRTC;
//   no ?run=                     standalone: trains configs/tiny.yml here, alone.
// The CLI drives the standalone mode through window.tabtron.train.
import * as Comlink from 'comlink';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { RankWorkerApi } from '../../workers/rank.worker';
import type { TrainEvent } from '../train/events';
import type { TrainConfig } from '../train/setup';
import { renderAdapter } from './adapter-view';
import type { RunConnection } from './join';
import { mountJoinPanel } from './join-panel';
import { RankSession } from './rank-session';
import { tinyConfig } from './tiny-config';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const worker = new Worker(new URL('../../workers/rank.worker.ts', import.meta.url), { type: 'module' });
const rank = Comlink.wrap<RankWorkerApi>(worker);
const events: TrainEvent[] = [];
const lossSeries: [number[], number[]] = [[], []];
let chart: uPlot | null = null;

function setStatus(id: string, text: string, state: string): void {
  const el = $(id);
  el.textContent = text;
  el.dataset.state = state;
}

function showChart(): void {
  chart ??= new uPlot(
    {
      width: 560,
      height: 220,
      title: 'train loss',
      series: [{ label: 'step' }, { label: 'loss', stroke: '#3366cc' }],
      scales: { x: { time: false } },
    },
    lossSeries,
    $('loss-chart'),
  );
}

function onEvent(e: TrainEvent): void {
  events.push(e);
  (window as unknown as { tabtronReport?: (e: TrainEvent) => void }).tabtronReport?.(e);
  switch (e.kind) {
    case 'start':
      setStatus(
        'run-status',
        `Training ${(e.params / 1e6).toFixed(2)}M parameters, ${e.tokensPerStep} tokens/step, ${e.trainIters} steps`,
        'running',
      );
      break;
    case 'step':
      $('m-step').textContent = String(e.step);
      $('m-loss').textContent = e.loss.toFixed(4);
      $('m-tps').textContent = e.tokensPerSec.toFixed(0);
      $('m-lr').textContent = e.lr.toExponential(2);
      lossSeries[0].push(e.step);
      lossSeries[1].push(e.loss);
      chart?.setData(lossSeries);
      break;
    case 'eval':
      $('m-val').textContent = e.loss.toFixed(4);
      break;
    case 'done':
      setStatus(
        'run-status',
        `Done: train loss ${e.trainLoss.toFixed(4)}, validation loss ${e.validLoss.toFixed(4)}`,
        'done',
      );
      break;
    case 'checkpoint':
      setStatus(
        'run-status',
        e.action === 'loaded'
          ? `Resumed from checkpoint iteration ${e.iteration} (step ${e.step})`
          : `Saved checkpoint at step ${e.step}`,
        'running',
      );
      break;
    case 'error':
      setStatus('run-status', `Error: ${e.message}`, 'error');
      break;
    case 'round':
    case 'sample':
      break;
    case 'restored': {
      // a volunteer who comes back (reload, or a new generation) is told where training resumed
      if (e.generation === 1 && e.from === 'init') break;
      const from = {
        keep: 'where it was',
        'dp-peer': 'a copy sent by another tab that trains the same part of the model',
        local: "this tab's own saved state (nothing was lost)",
        checkpoint: 'the last checkpoint',
        init: 'the start',
      }[e.from];
      const note = $('run-note');
      note.hidden = false;
      note.textContent =
        e.from === 'local'
          ? `Welcome back: this tab resumed its part of the run at step ${e.step}, from ${from}.`
          : `The run changed who trains what; this tab resumed at step ${e.step} from ${from}.`;
      break;
    }
    default: {
      const never: never = e;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

async function train(config: TrainConfig, corpusText: string | null = null, maxSteps?: number) {
  ($('train-standalone') as HTMLButtonElement).disabled = true;
  ($('stop') as HTMLButtonElement).disabled = false;
  showChart();
  try {
    return await rank.train(config, corpusText, Comlink.proxy(onEvent), maxSteps);
  } finally {
    ($('train-standalone') as HTMLButtonElement).disabled = false;
    ($('stop') as HTMLButtonElement).disabled = true;
  }
}

async function checkGpu(): Promise<boolean> {
  if (!('gpu' in navigator)) {
    setStatus(
      'gpu-status',
      'This browser has no WebGPU, so this tab cannot train. Try a recent Chrome or Edge (or Firefox/Safari with WebGPU enabled).',
      'error',
    );
    return false;
  }
  try {
    const adapter = await rank.adapter();
    if (!adapter) throw new Error('no adapter');
    renderAdapter($('gpu-info'), adapter);
    setStatus(
      'gpu-status',
      `WebGPU ready: ${adapter.vendor || 'unknown vendor'} ${adapter.architecture || adapter.device}${adapter.isFallbackAdapter ? ' (software fallback)' : ''}`,
      'ok',
    );
    return true;
  } catch (e) {
    setStatus('gpu-status', `WebGPU could not start: ${(e as Error).message}`, 'error');
    return false;
  }
}

/** Joins run `runId` and trains the assigned rank; the session is on window.tabtron.session. */
async function joinAndTrain(runId: string, joinToken: string): Promise<void> {
  $('join').hidden = false;
  ($('train-standalone') as HTMLButtonElement).hidden = true;
  ($('stop') as HTMLButtonElement).hidden = true;
  setStatus('run-status', 'Waiting for a rank…', 'idle');
  const session = (connection: RunConnection): RankSession => {
    if (api.session) return api.session;
    showChart();
    api.session = new RankSession({
      connection,
      worker: rank,
      coordinatorUrl: location.origin,
      onEvent,
      onState: (s, text) => setStatus('run-status', text, s === 'error' ? 'error' : s === 'done' ? 'done' : 'running'),
    });
    return api.session;
  };
  await mountJoinPanel($('join-panel'), {
    coordinatorUrl: location.origin,
    runId,
    joinToken,
    generation: () => api.session?.generation ?? 0,
    onAssignment: (a, connection) => session(connection).assigned(a),
    onControl: (msg, connection) => {
      if (connection) session(connection).control(msg);
    },
  });
}

const api = { train, events, stop: () => rank.stop(), ready: checkGpu(), session: null as RankSession | null };
(window as unknown as { tabtron: typeof api }).tabtron = api;

const query = new URLSearchParams(location.search);
const runId = query.get('run');
if (runId && import.meta.hot) {
  // Served by Vite's dev server: its client reloads the page when its socket comes back after the
  // server restarted (here: the coordinator), which would throw away this tab's training state.
  // It waits for every listener of the disconnect first; this one never finishes.
  import.meta.hot.on('vite:ws:disconnect', () => new Promise<never>(() => {}));
}
if (runId) {
  void joinAndTrain(runId, query.get('token') ?? '');
} else {
  void api.ready.then((ok) => {
    const button = $('train-standalone') as HTMLButtonElement;
    button.disabled = !ok;
    button.onclick = async () => {
      try {
        await train(await tinyConfig());
      } catch (e) {
        setStatus('run-status', `Error: ${(e as Error).message}`, 'error');
      }
    };
    ($('stop') as HTMLButtonElement).onclick = () => void rank.stop();
  });
}
