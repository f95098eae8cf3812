// The rank grid: one table per data-parallel replica, pipeline stages as rows and
// tensor-parallel ranks as columns; each cell says who holds the rank and its state.
// Cells carry data-* attributes so tests (and people with devtools) can read them.

import type { RunDetail } from './api';

type Participant = NonNullable<RunDetail['grid'][number]['participant']>;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function deviceLabel(p: Participant): string {
  const a = p.device.adapter;
  return a ? [a.vendor, a.architecture].filter(Boolean).join(' ') || 'WebGPU' : 'no adapter';
}

function cellState(p: Participant | null): string {
  if (!p) return 'vacant';
  if (!p.connected) return 'disconnected';
  return p.state;
}

export function renderGrid(host: HTMLElement, d: RunDetail): void {
  const { tp, pp } = d.run.sizes;
  const dp = d.run.layout?.dp ?? d.run.sizes.dp; // the replicas the run trains with now
  const frag = document.createDocumentFragment();
  for (let r = 0; r < dp; r++) {
    const table = el('table', { class: 'grid', 'data-dp': String(r) });
    table.append(el('caption', {}, dp > 1 ? `data-parallel replica ${r}` : 'ranks'));
    const head = el('tr');
    head.append(el('th', {}, 'stage'));
    for (let t = 0; t < tp; t++) head.append(el('th', {}, `tp ${t}`));
    table.append(head);
    for (let s = 0; s < pp; s++) {
      const row = el('tr');
      const layers = (d.plan.stages as { layers: [number, number] }[] | undefined)?.[s]?.layers;
      row.append(el('th', {}, `pp ${s}${layers ? ` · layers ${layers[0]}–${layers[1] - 1}` : ''}`));
      for (let t = 0; t < tp; t++) {
        const cell = d.grid.find((g) => g.tp === t && g.pp === s && g.dp === r)!;
        const p = cell.participant;
        const state = cellState(p);
        const td = el('td', {
          class: `rank ${state}`,
          'data-rank': String(cell.rank),
          'data-state': state,
          'data-participant': p?.id ?? '',
        });
        td.append(el('div', { class: 'rank-id' }, `rank ${cell.rank}`));
        td.append(el('div', { class: 'holder' }, p ? p.id : '—'));
        td.append(el('div', { class: 'state' }, state + (p?.device.hidden ? ' · background' : '')));
        if (p) td.append(el('div', { class: 'device' }, deviceLabel(p)));
        row.append(td);
      }
      table.append(row);
    }
    frag.append(table);
  }
  host.replaceChildren(frag);
}

export function renderStandbys(host: HTMLElement, d: RunDetail): void {
  const list = el('ol', { class: 'standbys' });
  for (const p of d.participants.filter((x) => x.rank === null && x.state === 'standby')) {
    list.append(
      el(
        'li',
        { 'data-participant': p.id, 'data-connected': String(p.connected) },
        `${p.id} · ${deviceLabel(p)}${p.connected ? '' : ' · disconnected'}`,
      ),
    );
  }
  host.replaceChildren(list.childElementCount ? list : el('p', { class: 'muted' }, 'no standbys'));
}
