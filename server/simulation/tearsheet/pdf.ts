import type { Content, TableCell } from 'pdfmake';
import { PDF_FONT, renderPdfDocument } from '../../../analysis/artifacts/pdfEngine.js';
import { finalizePdf } from '../../../analysis/artifacts/pdfFinalize.js';
import { type Chart, toPng } from './charts.js';
import type { TearSheet } from './model.js';
import {
  ACTIVITY_HEAD,
  activityRows,
  FILLS_HEAD,
  fillRows,
  METRICS_HEAD,
  metricsRows,
  num,
  RANKING_HEAD,
  rankingRows,
} from './tables.js';

// The tear sheet as a PDF: the same sections as the page, charts as PNG (resvg), tables as text, so a
// reader (pdftotext) finds every figure.

function grid(head: string[], rows: Array<Array<string | number>>, fontSize = 8): Content {
  const cell = (v: string | number, bold = false): TableCell => ({ text: String(v), bold, fontSize });
  return {
    table: { headerRows: 1, body: [head.map((h) => cell(h, true)), ...rows.map((r) => r.map((v) => cell(v)))] },
    layout: 'lightHorizontalLines',
    margin: [0, 4, 0, 12],
  };
}

export async function tearSheetPdf(sheet: TearSheet, charts: readonly Chart[], createdAt: Date): Promise<Uint8Array> {
  const run = sheet.run;
  const monthsOf = [...new Set(sheet.monthly.flatMap((s) => s.months.map((m) => m.month)))].sort();
  const content: Content[] = [
    { text: sheet.title, fontSize: 16, bold: true, margin: [0, 0, 0, 6] },
    {
      text: [
        `${run.mode} · ${run.status} · ${run.start_date ?? '–'} .. ${run.end_date ?? '–'} · models ${run.models.join(', ')}`,
        ` · ${run.symbols} symbols · initial cash ${run.initial_cash === null ? 'each model’s own' : `$${run.initial_cash}`}`,
        ` · benchmark ${run.benchmark ?? 'none'} · trading costs: ${run.costs} · market data: ${run.market_data}`,
      ].join(''),
      fontSize: 8,
      color: '#555555',
      margin: [0, 0, 0, 10],
    },
    { text: 'Metrics', bold: true, fontSize: 11 },
    grid(METRICS_HEAD, metricsRows(sheet)),
    ...charts.flatMap((c): Content[] => [
      { text: c.title, bold: true, fontSize: 11 },
      {
        image: `data:image/png;base64,${Buffer.from(toPng(c.svg)).toString('base64')}`,
        width: 515,
        margin: [0, 4, 0, 10],
      },
    ]),
    { text: 'Monthly returns (%)', bold: true, fontSize: 11, pageBreak: 'before' },
    grid(
      ['series', ...monthsOf],
      sheet.monthly.map((s) => {
        const by = new Map(s.months.map((m) => [m.month, m.return_pct]));
        return [s.name, ...monthsOf.map((m) => num(by.get(m)))];
      }),
      7,
    ),
    { text: 'Ranking by Sharpe ratio', bold: true, fontSize: 11 },
    grid(RANKING_HEAD, rankingRows(sheet)),
    { text: 'Trades and costs', bold: true, fontSize: 11 },
    grid(ACTIVITY_HEAD, activityRows(sheet)),
    { text: 'Recent fills', bold: true, fontSize: 11 },
    grid(FILLS_HEAD, fillRows(sheet, 40), 7),
  ];
  const rendered = await renderPdfDocument({
    pageSize: 'A4',
    pageMargins: [40, 40, 40, 40],
    info: { title: sheet.title, author: 'tradeflow', creationDate: createdAt },
    defaultStyle: { font: PDF_FONT, fontSize: 9 },
    content,
    footer: (page, pages) => ({
      text: `Page ${page} of ${pages}`,
      alignment: 'center',
      fontSize: 7,
      margin: [0, 16, 0, 0],
    }),
  });
  return finalizePdf(rendered, { title: sheet.title, author: 'tradeflow', creationDate: createdAt }, []);
}
