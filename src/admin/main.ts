// The admin page: pick a run, watch its rank grid, charts, links, local-SGD rounds and pipeline timeline
// (polled once a second), and create, pause, resume or stop runs.
// Token: admin.html#token=... (kept in sessionStorage, removed from the URL) or the form.

import { AdminApi, AdminApiError, type RunDetail } from './api';
import { RunCharts } from './charts';
import { renderGrid, renderStandbys } from './grid';
import { MetricSeries } from './series';
import { renderLinks, renderRounds, renderTimeline } from './timeline';
import { renderRecoveries } from './recoveries';
import { renderSample } from './sample';

const TOKEN_KEY = 'tabtron:admin-token';
const POLL_MS = 1000;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function takeToken(): string | null {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function showLogin(message = ''): void {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
}

class AdminPage {
  private runId: string | null = new URLSearchParams(location.search).get('run');
  private series = new MetricSeries();
  private lastMetric = 0;
  private charts: RunCharts | null = null;
  private polling = false;

  constructor(private readonly api: AdminApi) {}

  async start(): Promise<void> {
    await this.refreshRuns();
    $('login').hidden = true;
    $('app').hidden = false;
    $<HTMLSelectElement>('run-select').addEventListener('change', (e) =>
      this.select((e.target as HTMLSelectElement).value),
    );
    for (const action of ['pause', 'resume', 'stop'] as const) {
      $(action).addEventListener('click', () => void this.act(action));
    }
    $<HTMLFormElement>('create-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.create(e.target as HTMLFormElement);
    });
    addEventListener('resize', () => this.charts?.resize());
    setInterval(() => void this.poll(), POLL_MS);
    await this.poll();
  }

  private async refreshRuns(): Promise<void> {
    const { runs } = await this.api.runs();
    const sel = $<HTMLSelectElement>('run-select');
    sel.replaceChildren(...runs.map((r) => new Option(`${r.name} (${r.id}) · ${r.state}`, r.id)));
    if (!this.runId && runs.length) this.runId = runs[0].id;
    if (this.runId) sel.value = this.runId;
  }

  private select(id: string): void {
    this.runId = id;
    history.replaceState(null, '', `?run=${encodeURIComponent(id)}`);
    this.series = new MetricSeries();
    this.lastMetric = 0;
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.runId) return;
    this.polling = true;
    const status = $('poll-status');
    try {
      const id = this.runId;
      const [detail, metrics] = await Promise.all([this.api.run(id), this.api.metrics(id, this.lastMetric)]);
      if (id !== this.runId) return;
      this.series.add(metrics.points);
      this.lastMetric = metrics.last;
      this.render(detail, metrics.spans);
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      status.dataset.state = 'ok';
    } catch (e) {
      if (e instanceof AdminApiError && (e.status === 401 || e.status === 403)) return showLogin(e.message);
      status.textContent = `cannot reach the coordinator: ${(e as Error).message}`;
      status.dataset.state = 'error';
    } finally {
      this.polling = false;
    }
  }

  private render(d: RunDetail, spans: Parameters<typeof renderTimeline>[1]): void {
    $('run').hidden = false;
    $('run-title').textContent = `${d.run.name} (${d.run.id})`;
    const state = $('run-state');
    state.dataset.state = d.run.state;
    const { tp, pp, dp } = d.run.sizes;
    const now = d.run.layout ?? { dp };
    const world = tp * pp * now.dp;
    const shrunk = now.dp < dp ? ` (${now.dp} of ${dp} replicas while tabs are missing)` : '';
    state.textContent =
      `${d.run.state}${d.run.stateReason ? ` — ${d.run.stateReason}` : ''} · step ${d.run.step} · ` +
      `generation ${d.run.generation} · ${d.run.held}/${world} ranks held (PP ${pp} × TP ${tp} × DP ${now.dp})${shrunk}, ` +
      `${d.run.ready} ready, ${d.run.standbys} standby`;
    const join = $<HTMLAnchorElement>('join-link');
    join.href = `/?run=${encodeURIComponent(d.run.id)}&token=${encodeURIComponent(d.joinToken)}`;
    join.textContent = new URL(join.href, location.href).href;
    $<HTMLButtonElement>('pause').disabled = d.run.state === 'stopped' || d.run.paused;
    $<HTMLButtonElement>('resume').disabled = !d.run.paused;
    $<HTMLButtonElement>('stop').disabled = d.run.state === 'stopped';

    renderGrid($('grid'), d);
    renderStandbys($('standbys'), d);
    this.charts ??= new RunCharts($('loss-chart'), $('tput-chart'), $('traffic-chart'));
    this.charts.update(this.series);
    renderLinks($('links'), this.series);
    renderRounds($('rounds'), this.series, dp);
    renderTimeline($('timeline'), spans, pp);
    renderRecoveries($('recoveries'), d);
    renderSample($('sample'), d);
    const config = JSON.stringify(d.config, null, 2);
    if ($('config').textContent !== config) $('config').textContent = config;
    const plan = JSON.stringify(d.plan, null, 2);
    if ($('plan').textContent !== plan) $('plan').textContent = plan;
    $('events').replaceChildren(
      ...d.events.map((ev) => {
        const li = document.createElement('li');
        li.textContent = `${new Date(ev.at).toLocaleTimeString()} ${ev.kind} ${ev.detail}`;
        return li;
      }),
    );
  }

  private async act(action: 'pause' | 'resume' | 'stop'): Promise<void> {
    if (!this.runId) return;
    if (action === 'stop' && !confirm(`Stop run ${this.runId}? Every tab will be released.`)) return;
    try {
      await this.api.action(this.runId, action);
    } catch (e) {
      alert((e as Error).message);
    }
    await Promise.all([this.poll(), this.refreshRuns()]);
  }

  private async create(form: HTMLFormElement): Promise<void> {
    const data = new FormData(form);
    const files = (data.getAll('files') as File[]).filter((f) => f.size > 0);
    const configs = await Promise.all(files.map(async (f) => ({ file: f.name, text: await f.text() })));
    const yaml = String(data.get('yaml') ?? '').trim();
    if (yaml) configs.push({ file: 'admin page', text: yaml });
    const dp = Number(data.get('dp'));
    const name = String(data.get('name') ?? '').trim();
    const out = $('create-result');
    try {
      const r = await this.api.create({ configs, ...(dp ? { dp } : {}), ...(name ? { name } : {}) });
      out.className = '';
      out.textContent = `created ${r.run.id}: ${r.run.sizes.world} ranks${r.warnings.length ? ` · warnings: ${r.warnings.join('; ')}` : ''}`;
      await this.refreshRuns();
      this.select(r.run.id);
    } catch (e) {
      out.className = 'error';
      out.textContent = (e as Error).message;
    }
  }
}

async function boot(token: string): Promise<void> {
  try {
    await new AdminPage(new AdminApi(token)).start();
  } catch (e) {
    if (e instanceof AdminApiError && (e.status === 401 || e.status === 403)) sessionStorage.removeItem(TOKEN_KEY);
    showLogin((e as Error).message);
  }
}

$<HTMLFormElement>('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $<HTMLInputElement>('token-input').value.trim());
  location.reload();
});

const token = takeToken();
if (token) void boot(token);
else showLogin();
