// The run's membership changes, newest first: why (a tab closed, crashed, reloaded, went
// silent, the coordinator restarted, a replica could join), which ranks were lost and who took
// them over, where each new holder's state came from, the step training resumed from, how many
// finished steps were given up, and how long the run stood still.
import type { RunDetail } from './api';

type Recovery = RunDetail['recoveries'][number];

const CAUSES: Record<string, string> = {
  close: 'a tab closed',
  crash: 'a tab crashed or lost its connection',
  reload: 'a tab reloaded',
  silent: 'a tab went silent',
  peer: 'a peer link failed',
  grow: 'enough tabs for another replica',
  'coordinator-restart': 'the coordinator restarted',
};

function cell(text: string, attrs: Record<string, string> = {}): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  for (const [k, v] of Object.entries(attrs)) td.setAttribute(k, v);
  return td;
}

function row(r: Recovery): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.cause = r.cause;
  const secs = r.finishedAt ? ((r.finishedAt - r.startedAt) / 1000).toFixed(1) : 'in progress';
  const rolledBack = r.resumeStep === null ? 0 : Math.max(0, r.committedStep - r.resumeStep);
  const layout = r.layout ? `TP ${r.layout.tp} × PP ${r.layout.pp} × DP ${r.layout.dp}` : '';
  tr.append(
    cell(new Date(r.startedAt).toLocaleTimeString()),
    cell(CAUSES[r.cause] ?? r.cause),
    cell(r.lost.map((l) => `rank ${l.rank} (${l.participant})`).join(', ') || '—'),
    cell(r.tookOver.map((t) => `rank ${t.rank} → ${t.participant}`).join(', ') || '—'),
    cell(r.restoredFrom ?? '…', { 'data-restored-from': r.restoredFrom ?? '' }),
    cell(r.resumeStep === null ? `${r.committedStep}` : String(r.resumeStep)),
    cell(String(rolledBack), { 'data-rollback': String(rolledBack) }),
    cell(secs),
    cell(layout),
  );
  return tr;
}

export function renderRecoveries(host: HTMLElement, d: RunDetail): void {
  if (d.recoveries.length === 0) {
    host.textContent = 'No tab has left or joined since the run started.';
    return;
  }
  const table = document.createElement('table');
  table.className = 'recoveries';
  const head = document.createElement('tr');
  for (const h of [
    'when',
    'why',
    'lost',
    'taken over by',
    'state from',
    'resumed at step',
    'steps rolled back',
    'seconds',
    'layout',
  ])
    head.append(Object.assign(document.createElement('th'), { textContent: h }));
  table.append(head, ...d.recoveries.map(row));
  host.replaceChildren(table);
}
