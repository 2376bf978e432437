import type { Chart } from './charts.js';
import type { TearSheet } from './model.js';
import {
  ACTIVITY_HEAD,
  activityRows,
  FILLS_HEAD,
  fillRows,
  METRICS_HEAD,
  metricsRows,
  RANKING_HEAD,
  rankingRows,
} from './tables.js';

// The tear sheet as one self-contained HTML page: inline SVG charts, tables, and the charts' data as
// JSON (not executed: the page runs no script) for anyone who wants the numbers behind a line.

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON inside a script element: `<` escaped, so no value can close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export const TEARSHEET_STYLE = `body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse;font-size:.85rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}
dl{display:grid;grid-template-columns:10rem 1fr;gap:.2rem 1rem}dt{color:#666}figure{margin:1rem 0}svg{max-width:100%;height:auto}`;

function table(head: string[], rows: Array<Array<string | number>>): string {
  const cell = (tag: string, v: string | number) => `<${tag}>${escapeHtml(String(v))}</${tag}>`;
  return `<table><thead><tr>${head.map((h) => cell('th', h)).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => cell('td', v)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function tearSheetHtml(sheet: TearSheet, charts: readonly Chart[]): string {
  const run = sheet.run;
  const facts: Array<[string, string]> = [
    ['mode', run.mode],
    ['status', run.status],
    ['period', `${run.start_date ?? '–'} .. ${run.end_date ?? '–'}`],
    ['models', run.models.join(', ')],
    ['symbols', String(run.symbols)],
    ['initial cash', run.initial_cash === null ? 'each model’s own' : `$${run.initial_cash}`],
    ['benchmark', run.benchmark ?? 'none'],
    ['trading costs', run.costs],
    ['market data', run.market_data],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(sheet.title)}</title>
<style>${TEARSHEET_STYLE}</style></head><body>
<h1>${escapeHtml(sheet.title)}</h1>
<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
${charts.map((c) => `<figure><figcaption><h2>${escapeHtml(c.title)}</h2></figcaption>${c.svg}</figure>`).join('\n')}
<h2>Metrics</h2>
${table(METRICS_HEAD, metricsRows(sheet))}
<h2>Ranking by Sharpe ratio</h2>
<p>Sharpe difference with its ${sheet.comparison.bootstrap.confidence * 100}% paired bootstrap interval (${sheet.comparison.bootstrap.resamples} resamples).</p>
${table(RANKING_HEAD, rankingRows(sheet))}
<h2>Trades and costs</h2>
${table(ACTIVITY_HEAD, activityRows(sheet))}
<h2>Recent fills</h2>
${table(FILLS_HEAD, fillRows(sheet))}
<script type="application/json" id="tearsheet-data">${scriptJson(sheet)}</script>
</body></html>`;
}
