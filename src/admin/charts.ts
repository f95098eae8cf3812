// Live loss and throughput charts (uPlot), redrawn from a MetricSeries on each poll.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatBytes, type MetricSeries } from './series';

interface Chart {
  plot: uPlot;
  names: string[];
  reduce: ('mean' | 'sum')[];
}

function make(
  host: HTMLElement,
  title: string,
  series: { label: string; stroke: string }[],
  yLabel: string,
  yValues?: (v: number) => string,
): uPlot {
  const width = Math.max(320, host.clientWidth || 480);
  return new uPlot(
    {
      title,
      width,
      height: 220,
      scales: { x: { time: false } },
      axes: [
        { label: 'step' },
        { label: yLabel, ...(yValues ? { values: (_u: uPlot, ticks: number[]) => ticks.map(yValues) } : {}) },
      ],
      series: [
        { label: 'step' },
        ...series.map((s) => ({ ...s, width: 2, spanGaps: true, points: { show: true, size: 4 } })),
      ],
    },
    [[], ...series.map(() => [])],
    host,
  );
}

export class RunCharts {
  private readonly charts: Chart[];

  constructor(lossHost: HTMLElement, tputHost: HTMLElement, trafficHost?: HTMLElement) {
    this.charts = [
      {
        plot: make(
          lossHost,
          'loss',
          [
            { label: 'train', stroke: '#2563eb' },
            { label: 'validation', stroke: '#dc2626' },
          ],
          'loss',
        ),
        names: ['loss', 'val_loss'],
        reduce: ['mean', 'mean'],
      },
      {
        plot: make(tputHost, 'throughput', [{ label: 'tokens/s', stroke: '#16a34a' }], 'tokens/s'),
        // every rank reports the whole step's tokens (all replicas) over its own step time
        names: ['tokens_per_sec'],
        reduce: ['mean'],
      },
    ];
    if (trafficHost)
      this.charts.push({
        plot: make(
          trafficHost,
          'bytes sent per step (all ranks)',
          [{ label: 'bytes', stroke: '#9333ea' }],
          'bytes',
          formatBytes,
        ),
        names: ['link_bytes'],
        reduce: ['sum'],
      });
  }

  update(m: MetricSeries): void {
    for (const c of this.charts) {
      const steps = m.steps(c.names);
      c.plot.setData([steps, ...c.names.map((n, i) => m.values(n, steps, c.reduce[i]))] as uPlot.AlignedData);
      c.plot.root.dataset.points = String(steps.length);
    }
  }

  resize(): void {
    for (const c of this.charts)
      c.plot.setSize({ width: Math.max(320, c.plot.root.parentElement?.clientWidth ?? 480), height: 220 });
  }
}
