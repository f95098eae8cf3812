import type { AdapterSummary } from '../gpu/context';

export function renderAdapter(dl: HTMLElement, a: AdapterSummary): void {
  const rows: [string, string][] = [
    ['vendor', a.vendor || '–'],
    ['architecture', a.architecture || '–'],
    ['device', a.device || a.description || '–'],
    ['fallback (software)', a.isFallbackAdapter ? 'yes' : 'no'],
    ['features', a.features.join(', ') || '–'],
    ...Object.entries(a.limits).map(([k, v]) => [k, v.toLocaleString()] as [string, string]),
  ];
  dl.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.dataset.key = k;
      return [dt, dd];
    }),
  );
}
