// Pipeline timeline (one lane per stage, forward/backward spans of the latest step) and
// the per-link traffic table, and the local-SGD rounds table. Spans are positioned elements, scaled to the step.

import type { SpanRow } from './series';
import { formatBytes, formatBytesPerSec, timelineRows, type MetricSeries } from './series';

export function renderTimeline(host: HTMLElement, spans: readonly SpanRow[], pp: number): void {
  const t = timelineRows(spans, pp);
  const box = document.createElement('div');
  box.className = 'timeline';
  const caption = document.createElement('p');
  caption.className = 'muted';
  caption.textContent = t.step === null ? 'no spans reported yet' : `step ${t.step} · ${t.durationMs.toFixed(1)} ms`;
  box.append(caption);
  for (const row of t.rows) {
    const lane = document.createElement('div');
    lane.className = 'lane';
    lane.dataset.stage = String(row.stage);
    const label = document.createElement('span');
    label.className = 'lane-label';
    label.textContent = `stage ${row.stage}`;
    const track = document.createElement('div');
    track.className = 'track';
    for (const s of row.spans) {
      const span = document.createElement('div');
      span.className = `span ${s.kind}`;
      span.dataset.kind = s.kind;
      span.style.left = `${(100 * s.start) / (t.durationMs || 1)}%`;
      span.style.width = `${Math.max(0.3, (100 * (s.end - s.start)) / (t.durationMs || 1))}%`;
      span.title = `${s.kind}${s.microbatch === undefined ? '' : ` mb ${s.microbatch}`} · rank ${s.rank} · ${(s.end - s.start).toFixed(2)} ms`;
      span.textContent = s.microbatch === undefined ? '' : `${s.kind[0].toUpperCase()}${s.microbatch}`;
      track.append(span);
    }
    lane.append(label, track);
    box.append(lane);
  }
  host.replaceChildren(box);
}

export function renderLinks(host: HTMLElement, m: MetricSeries): void {
  const rows = m.linkTable();
  if (!rows.length) return host.replaceChildren(muted('no link measurements yet'));
  const table = document.createElement('table');
  table.className = 'links';
  table.innerHTML =
    '<tr><th>from rank</th><th>to rank</th><th>throughput while sending</th><th>bytes (last step)</th><th>step</th></tr>';
  for (const l of rows) {
    const tr = table.insertRow();
    tr.dataset.link = `${l.rank}>${l.peerRank}`;
    const cells = [
      String(l.rank),
      String(l.peerRank),
      l.bytesPerSec === null ? '–' : formatBytesPerSec(l.bytesPerSec),
      l.bytes === null ? '–' : formatBytes(l.bytes),
      String(l.step),
    ];
    for (const v of cells) tr.insertCell().textContent = v;
  }
  host.replaceChildren(table);
}

/** Local-SGD syncs, newest first (empty for synchronous runs). */
export function renderRounds(host: HTMLElement, m: MetricSeries, dp: number): void {
  const rows = m.rounds(dp);
  if (!rows.length) return host.replaceChildren(muted('no local-SGD rounds (synchronous data parallelism)'));
  const table = document.createElement('table');
  table.className = 'rounds';
  table.innerHTML =
    '<tr><th>after step</th><th>bytes sent (all ranks)</th><th>‖Δ‖ averaged pseudo-gradient</th><th>‖outer update‖</th><th>slowest sync</th></tr>';
  for (const r of rows) {
    const tr = table.insertRow();
    tr.dataset.round = String(r.step);
    const cells = [
      String(r.step),
      formatBytes(r.bytes),
      r.deltaNorm.toPrecision(4),
      r.updateNorm.toPrecision(4),
      `${r.ms.toFixed(0)} ms`,
    ];
    for (const v of cells) tr.insertCell().textContent = v;
  }
  host.replaceChildren(table);
}

function muted(text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'muted';
  p.textContent = text;
  return p;
}
