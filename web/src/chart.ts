// Usage-history chart (messages and tokens per day). uPlot is loaded on demand so the main bundle
// stays small and the chart only costs anything when the server actually sends a history.
import type uPlotType from 'uplot';
import type { HistoryPoint } from './types';
import { isRecord } from './format';

/** Accepts `history` in a few plausible shapes; returns [] when there is nothing usable. */
export function normalizeHistory(raw: unknown): HistoryPoint[] {
  const list = Array.isArray(raw) ? raw
    : isRecord(raw) && Array.isArray(raw['days']) ? raw['days'] as unknown[]
      : [];
  const out: HistoryPoint[] = [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    const date = typeof item['date'] === 'string' ? item['date'] : typeof item['day'] === 'string' ? item['day'] : null;
    if (!date) continue;
    const n = (k: string): number => (typeof item[k] === 'number' ? item[k] as number : 0);
    const tokens = n('tokens');
    out.push({
      date,
      messages: n('messages'),
      input_tokens: n('input_tokens') || (tokens && !n('output_tokens') ? tokens : 0),
      output_tokens: n('output_tokens'),
    });
  }
  out.sort((a, b) => a.date.localeCompare(b.date));
  return out;
}

function dayToSeconds(date: string): number {
  // "YYYY-MM-DD" is a calendar day; plot it at local midnight.
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date(date);
  return Math.floor(d.getTime() / 1000);
}

export async function mountUsageChart(el: HTMLElement, points: HistoryPoint[]): Promise<() => void> {
  const [{ default: uPlot }] = await Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]);
  const xs = points.map((p) => dayToSeconds(p.date));
  const msgs = points.map((p) => p.messages);
  const toks = points.map((p) => p.input_tokens + p.output_tokens);
  const width = (): number => Math.max(200, el.clientWidth);
  const opts: uPlotType.Options = {
    width: width(),
    height: 160,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, msgs: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      toks: { range: (_u, _min, max) => [0, Math.max(10, max)] } },
    axes: [
      { stroke: '#5b6474', grid: { stroke: '#eef0f4' }, values: (_u, ticks) => ticks.map((t) =>
        new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })) },
      { scale: 'msgs', stroke: '#4f46e5', grid: { stroke: '#eef0f4' }, size: 40 },
      { scale: 'toks', side: 1, stroke: '#0d9488', grid: { show: false }, size: 50 },
    ],
    series: [
      { label: 'Day', value: (_u, v) => (v == null ? '' : new Date(v * 1000).toLocaleDateString()) },
      { label: 'Messages', scale: 'msgs', stroke: '#4f46e5', width: 2, fill: 'rgba(79,70,229,0.08)',
        points: { show: points.length < 40 } },
      { label: 'Tokens', scale: 'toks', stroke: '#0d9488', width: 2, points: { show: points.length < 40 } },
    ],
  };
  const plot = new uPlot(opts, [xs, msgs, toks], el);
  const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: 160 }));
  ro.observe(el);
  return () => { ro.disconnect(); plot.destroy(); };
}
