import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { DEJAVU_FAMILIES, fontsDir } from '../../../analysis/artifacts/fonts.js';
import type { TearSheet } from './model.js';

// Charts as vega-lite specs, rendered on the server to SVG (the HTML page inlines it) and, through
// resvg with the DejaVu fonts the PDFs use, to PNG (the PDF embeds it): no browser, no network.

const FONT = 'DejaVu Sans';
const WIDTH = 640;

export interface Chart {
  title: string;
  svg: string;
}

const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: WIDTH,
  background: 'white',
  config: { font: FONT, view: { stroke: null }, axis: { labelFontSize: 10, titleFontSize: 11 } },
} as const;

function lineSpec(sheet: TearSheet, field: 'index' | 'drawdown_pct', title: string): TopLevelSpec {
  return {
    ...base,
    height: 220,
    data: { values: sheet.series.flatMap((s) => s.points.map((p) => ({ series: s.name, date: p.date, v: p[field] }))) },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'date', type: 'temporal', title: null },
      y: { field: 'v', type: 'quantitative', title, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 4 } },
    },
  } as TopLevelSpec;
}

function monthlySpec(sheet: TearSheet): TopLevelSpec {
  const values = sheet.monthly.flatMap((s) => s.months.map((m) => ({ series: s.name, ...m })));
  return {
    ...base,
    height: { step: 22 },
    data: { values },
    encoding: {
      x: { field: 'month', type: 'ordinal', title: null, axis: { labelAngle: 0 } },
      y: { field: 'series', type: 'nominal', title: null },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'return_pct',
            type: 'quantitative',
            title: 'return %',
            scale: { scheme: 'redyellowgreen', domainMid: 0 },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: { text: { field: 'return_pct', type: 'quantitative', format: '.1f' } },
      },
    ],
  } as TopLevelSpec;
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The tear sheet's charts as SVG, in the order the page shows them. */
export async function charts(sheet: TearSheet): Promise<Chart[]> {
  if (sheet.series.length === 0) return [];
  return [
    { title: 'Equity (growth of 100)', svg: await toSvg(lineSpec(sheet, 'index', 'growth of 100')) },
    { title: 'Drawdown', svg: await toSvg(lineSpec(sheet, 'drawdown_pct', '% below peak')) },
    { title: 'Monthly returns (%)', svg: await toSvg(monthlySpec(sheet)) },
  ];
}

/** An SVG chart as PNG at twice its size, its text in the DejaVu fonts. */
export function toPng(svg: string): Uint8Array {
  const dir = fontsDir();
  const fontFiles = Object.values(DEJAVU_FAMILIES.DejaVuSans).map((f) => join(dir, f));
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: false, fontFiles, defaultFontFamily: FONT },
  }).render();
  return png.asPng();
}
