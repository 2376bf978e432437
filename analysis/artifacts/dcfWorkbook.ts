// The DCF model as an xlsx workbook of live formulas. Every formula cell also caches the result computed by
// dcfModel.ts, so readers without a calculation engine (and our own tests) see the numbers, and Excel or
// LibreOffice recalculate them from the inputs when a user changes an assumption.
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import ExcelJS from 'exceljs';
import {
  CHECK_TOLERANCE,
  computeDcfModel,
  type DcfInput,
  type DcfModel,
  type DcfValues,
  SENSITIVITY_GROWTH_STEPS,
  SENSITIVITY_WACC_STEPS,
} from './dcfModel.js';
import {
  addSheet,
  type CachedResult,
  FIRST_DATA_ROW,
  FORMAT,
  HEADER_FILL,
  HEADER_ROW,
  label,
  note,
  ref,
  setFormula,
  setInput,
  styleHeader,
} from './xlsxCells.js';

export type { DcfChecks, DcfInput, DcfValues } from './dcfModel.js';
export { DcfInputError } from './dcfModel.js';

export const DCF_SHEETS = {
  assumptions: 'Assumptions',
  historical: 'Historical',
  projections: 'Projections',
  dcf: 'Valuation (DCF)',
  exitMultiple: 'Valuation (Exit Multiple)',
  sensitivity: 'Sensitivity',
  summary: 'Summary',
} as const;

/**
 * Writes the workbook to `filePath` (parent folders created, replaced atomically) and returns the values its
 * formula cells cache. Throws DcfInputError before writing anything when WACC ≤ terminal growth or an input
 * is not a finite number.
 */
export async function writeDcfWorkbook(filePath: string, input: DcfInput): Promise<DcfValues> {
  const { workbook, values } = buildDcfWorkbook(input);
  await mkdir(dirname(filePath), { recursive: true });
  const partial = `${filePath}.${process.pid}.partial`;
  try {
    await workbook.xlsx.writeFile(partial);
    await rename(partial, filePath);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return values;
}

export function buildDcfWorkbook(input: DcfInput): { workbook: ExcelJS.Workbook; values: DcfValues } {
  const model = computeDcfModel(input);
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'tradeflow';
  workbook.title = `${input.ticker} DCF model`;
  const asOf = new Date(input.asOf);
  if (!Number.isNaN(asOf.getTime())) workbook.created = workbook.modified = asOf;
  // The cached results are ours; a spreadsheet application should still recompute everything on open.
  workbook.calcProperties.fullCalcOnLoad = true;

  const assumptions = addAssumptionsSheet(workbook, input, model);
  addHistoricalSheet(workbook, input, model);
  const projections = addProjectionsSheet(workbook, assumptions, input, model);
  const dcf = addDcfSheet(workbook, input, assumptions, projections, model);
  const exit = addExitMultipleSheet(workbook, input, assumptions, projections, model);
  const sensitivity = addSensitivitySheet(workbook, assumptions, projections, model);
  addSummarySheet(workbook, input, { assumptions, projections, dcf, exit, sensitivity }, model);

  const { wacc, pvFcf, perpetuityValue, exitMultipleValue, blendedValue, upside, sensitivity: grid, checks } = model;
  return {
    workbook,
    values: { wacc, pvFcf, perpetuityValue, exitMultipleValue, blendedValue, upside, sensitivity: grid, checks },
  };
}

/** Absolute references to the assumption cells, for the other sheets' formulas. */
interface AssumptionRefs {
  lastClose: string;
  wacc: string;
  startingFcf: string;
  growth: string[];
  terminalGrowth: string;
  exitMultiple: string;
}

function addAssumptionsSheet(workbook: ExcelJS.Workbook, input: DcfInput, model: DcfModel): AssumptionRefs {
  const a = input.assumptions;
  const sheet = addSheet(
    workbook,
    DCF_SHEETS.assumptions,
    `${input.ticker} · ${input.company} · per-share DCF as of ${input.asOf}`,
    ['Input', 'Value', 'Source / note'],
    [40, 14, 90],
  );
  const usedSources = new Set<string>();
  let row = FIRST_DATA_ROW;
  const inputRow = (sourceKey: string, text: string, value: number, numFmt: string, fallback = 'Not given'): number => {
    const current = row++;
    usedSources.add(sourceKey);
    label(sheet, current, text);
    setInput(sheet.getCell(current, 2), value, numFmt);
    note(sheet, current, 3, input.sources[sourceKey] ?? fallback);
    return current;
  };
  const formulaRow = (text: string, formula: string, result: number, numFmt: string, why: string): number => {
    const current = row++;
    label(sheet, current, text, true);
    setFormula(sheet.getCell(current, 2), formula, result, numFmt);
    note(sheet, current, 3, why);
    return current;
  };

  const lastCloseRow = inputRow(
    'lastClose',
    'Last close ($ per share)',
    input.lastClose,
    FORMAT.usd,
    `Market data: close on ${input.asOf}`,
  );
  const betaRow = inputRow('beta', 'Beta (vs benchmark)', input.beta, FORMAT.decimal);
  const riskFreeRow = inputRow('riskFreeRate', 'Risk-free rate', a.riskFreeRate, FORMAT.pct);
  const premiumRow = inputRow('equityRiskPremium', 'Equity risk premium', a.equityRiskPremium, FORMAT.pct);
  const waccRow = formulaRow(
    'Discount rate (WACC = rf + β × ERP)',
    `B${riskFreeRow}+B${betaRow}*B${premiumRow}`,
    model.wacc,
    FORMAT.pct,
    'All-equity CAPM: with no balance sheet offline, WACC is the cost of equity',
  );
  const yieldRow = inputRow('fcfYield', 'Starting FCF yield (on last close)', a.fcfYield, FORMAT.pct);
  const startingFcfRow = formulaRow(
    'Starting FCF per share (year 0)',
    `B${lastCloseRow}*B${yieldRow}`,
    model.fcf[0]!,
    FORMAT.usd,
    'Last close × starting FCF yield',
  );
  const growthRows = a.growth.map((growth, index) => {
    // A per-year source (`growth1`…) wins over the shared `growth` one.
    const yearKey = `growth${index + 1}`;
    const key = input.sources[yearKey] !== undefined ? yearKey : 'growth';
    return inputRow(key, `FCF growth, year ${index + 1}`, growth, FORMAT.pct);
  });
  const terminalRow = inputRow('terminalGrowth', 'Terminal growth (perpetual)', a.terminalGrowth, FORMAT.pct);
  const multipleRow = inputRow('exitMultiple', 'Exit multiple (× year-5 FCF)', a.exitMultiple, FORMAT.multiple);

  // Sources the caller gave that match no row above are still shown, not dropped.
  const otherSources = Object.entries(input.sources).filter(([key]) => !usedSources.has(key));
  if (otherSources.length > 0) {
    row++;
    label(sheet, row++, 'Other sources', true);
    for (const [key, text] of otherSources) {
      label(sheet, row, key);
      note(sheet, row++, 3, text);
    }
  }

  return {
    lastClose: ref(sheet, 'B', lastCloseRow),
    wacc: ref(sheet, 'B', waccRow),
    startingFcf: ref(sheet, 'B', startingFcfRow),
    growth: growthRows.map((growthRow) => ref(sheet, 'B', growthRow)),
    terminalGrowth: ref(sheet, 'B', terminalRow),
    exitMultiple: ref(sheet, 'B', multipleRow),
  };
}

function addHistoricalSheet(workbook: ExcelJS.Workbook, input: DcfInput, model: DcfModel): void {
  const sheet = addSheet(
    workbook,
    DCF_SHEETS.historical,
    `${input.ticker} month-end closes (market data)`,
    ['Month', 'Close', 'Monthly return'],
    [40, 14, 16],
  );
  if (model.months.length === 0) {
    note(sheet, FIRST_DATA_ROW, 1, 'No monthly history supplied');
    return;
  }
  model.months.forEach((entry, index) => {
    const row = FIRST_DATA_ROW + index;
    sheet.getCell(row, 1).value = entry.month;
    setInput(sheet.getCell(row, 2), entry.close, FORMAT.usd);
    if (entry.monthlyReturn !== null) {
      setFormula(sheet.getCell(row, 3), `B${row}/B${row - 1}-1`, entry.monthlyReturn, FORMAT.pct);
    }
  });
  const lastRow = FIRST_DATA_ROW + model.months.length - 1;
  const returns = `C${FIRST_DATA_ROW + 1}:C${lastRow}`;
  if (model.averageMonthlyReturn !== null && model.annualisedVolatility !== null) {
    const statsRow = lastRow + 2;
    label(sheet, statsRow, 'Average monthly return', true);
    setFormula(sheet.getCell(statsRow, 3), `AVERAGE(${returns})`, model.averageMonthlyReturn, FORMAT.pct);
    label(sheet, statsRow + 1, 'Annualised volatility (sample σ × √12)', true);
    setFormula(sheet.getCell(statsRow + 1, 3), `STDEV(${returns})*SQRT(12)`, model.annualisedVolatility, FORMAT.pct);
  }
}

/** Columns of projection years 1..5; column B is year 0. */
const YEAR_COLUMNS = ['C', 'D', 'E', 'F', 'G'] as const;

interface ProjectionRefs {
  /** Year numbers 1..5 (header cells), used as discounting exponents. */
  years: string[];
  /** FCF per share, years 1..5. */
  fcf: string[];
  fcf5: string;
  discountFactor5: string;
  pv: string;
  sumPv: string;
}

function addProjectionsSheet(
  workbook: ExcelJS.Workbook,
  assumptions: AssumptionRefs,
  input: DcfInput,
  model: DcfModel,
): ProjectionRefs {
  const sheet = addSheet(
    workbook,
    DCF_SHEETS.projections,
    'Free cash flow per share, years 1–5 (end-of-year discounting)',
    ['Year'],
    [34, 13, 13, 13, 13, 13, 13],
    1,
  );
  // Year numbers are numbers, not text, so the discount formulas can use the header cells as exponents.
  for (let year = 0; year <= 5; year++) sheet.getCell(HEADER_ROW, 2 + year).value = year;
  styleHeader(sheet.getRow(HEADER_ROW), 7);
  const growthRow = 4;
  const fcfRow = 5;
  const factorRow = 6;
  const pvRow = 7;
  const sumRow = 9;
  label(sheet, growthRow, 'FCF growth');
  label(sheet, fcfRow, 'FCF per share');
  label(sheet, factorRow, 'Discount factor 1/(1+WACC)^year');
  label(sheet, pvRow, 'PV of FCF per share', true);
  label(sheet, sumRow, 'Sum of PV, years 1–5', true);

  setFormula(sheet.getCell(`B${fcfRow}`), assumptions.startingFcf, model.fcf[0]!, FORMAT.usd);
  YEAR_COLUMNS.forEach((column, index) => {
    const previous = index === 0 ? 'B' : YEAR_COLUMNS[index - 1]!;
    const growth = `${column}${growthRow}`;
    const fcf = `${column}${fcfRow}`;
    const factor = `${column}${factorRow}`;
    const pv = `${column}${pvRow}`;
    setFormula(sheet.getCell(growth), assumptions.growth[index]!, input.assumptions.growth[index]!, FORMAT.pct);
    setFormula(sheet.getCell(fcf), `${previous}${fcfRow}*(1+${growth})`, model.fcf[index + 1]!, FORMAT.usd);
    setFormula(
      sheet.getCell(factor),
      `1/(1+${assumptions.wacc})^${column}$${HEADER_ROW}`,
      model.discountFactors[index]!,
      FORMAT.factor,
    );
    setFormula(sheet.getCell(pv), `${fcf}*${factor}`, model.pvFcf[index]!, FORMAT.usd);
    sheet.getCell(pv).font = { bold: true };
  });
  setFormula(sheet.getCell(`B${sumRow}`), `SUM(C${pvRow}:G${pvRow})`, model.sumPvFcf, FORMAT.usd);
  sheet.getCell(`B${sumRow}`).font = { bold: true };

  return {
    years: YEAR_COLUMNS.map((column) => ref(sheet, column, HEADER_ROW)),
    fcf: YEAR_COLUMNS.map((column) => ref(sheet, column, fcfRow)),
    fcf5: ref(sheet, 'G', fcfRow),
    discountFactor5: ref(sheet, 'G', factorRow),
    pv: `${ref(sheet, 'C', pvRow)}:$G$${pvRow}`,
    sumPv: ref(sheet, 'B', sumRow),
  };
}

/** Writes label / formula / note rows from FIRST_DATA_ROW down; returns each row's absolute value reference. */
function valueRows(
  sheet: ExcelJS.Worksheet,
  rows: readonly {
    label: string;
    formula: string;
    result: CachedResult;
    numFmt?: string;
    note?: string;
    bold?: boolean;
  }[],
): string[] {
  return rows.map((spec, index) => {
    const row = FIRST_DATA_ROW + index;
    label(sheet, row, spec.label, spec.bold);
    setFormula(sheet.getCell(row, 2), spec.formula, spec.result, spec.numFmt);
    if (spec.bold) sheet.getCell(row, 2).font = { bold: true };
    if (spec.note) note(sheet, row, 3, spec.note);
    return ref(sheet, 'B', row);
  });
}

function addDcfSheet(
  workbook: ExcelJS.Workbook,
  input: DcfInput,
  assumptions: AssumptionRefs,
  projections: ProjectionRefs,
  model: DcfModel,
): { value: string } {
  const sheet = addSheet(
    workbook,
    DCF_SHEETS.dcf,
    'Value per share: PV of years 1–5 + terminal value by perpetual growth (Gordon)',
    ['Item', 'Value', 'Note'],
    [40, 14, 60],
  );
  // B4 WACC, B5 g, B6 FCF5, B7 FCF6, B8 TV, B9 DF5, B10 PV(TV), B11 ΣPV, B12 value, B13 TV share.
  const cells = valueRows(sheet, [
    { label: 'WACC', formula: assumptions.wacc, result: model.wacc, numFmt: FORMAT.pct },
    {
      label: 'Terminal growth (g)',
      formula: assumptions.terminalGrowth,
      result: input.assumptions.terminalGrowth,
      numFmt: FORMAT.pct,
    },
    { label: 'FCF per share, year 5', formula: projections.fcf5, result: model.fcf[5]!, numFmt: FORMAT.usd },
    { label: 'FCF per share, year 6', formula: 'B6*(1+B5)', result: model.terminalFcf, numFmt: FORMAT.usd },
    {
      label: 'Terminal value at year 5',
      formula: 'B7/(B4-B5)',
      result: model.gordonTerminalValue,
      numFmt: FORMAT.usd,
      note: 'Gordon growth: FCF₆ / (WACC − g)',
    },
    {
      label: 'Discount factor, year 5',
      formula: projections.discountFactor5,
      result: model.discountFactors[4]!,
      numFmt: FORMAT.factor,
    },
    { label: 'PV of terminal value', formula: 'B8*B9', result: model.gordonTerminalPv, numFmt: FORMAT.usd },
    { label: 'Sum of PV of FCF, years 1–5', formula: projections.sumPv, result: model.sumPvFcf, numFmt: FORMAT.usd },
    { label: 'Value per share', formula: 'B10+B11', result: model.perpetuityValue, numFmt: FORMAT.usd, bold: true },
    {
      label: 'Terminal value share of value',
      formula: 'B10/B12',
      result: model.terminalShareOfValue,
      numFmt: FORMAT.pct,
      note: 'How much of the value rests on the years after the forecast',
    },
  ]);
  return { value: cells[8]! };
}

function addExitMultipleSheet(
  workbook: ExcelJS.Workbook,
  input: DcfInput,
  assumptions: AssumptionRefs,
  projections: ProjectionRefs,
  model: DcfModel,
): { value: string } {
  const sheet = addSheet(
    workbook,
    DCF_SHEETS.exitMultiple,
    'Value per share: PV of years 1–5 + terminal value at an exit multiple of year-5 FCF',
    ['Item', 'Value', 'Note'],
    [40, 14, 60],
  );
  // B4 multiple, B5 FCF5, B6 TV, B7 DF5, B8 PV(TV), B9 ΣPV, B10 value, B11 implied g.
  const cells = valueRows(sheet, [
    {
      label: 'Exit multiple',
      formula: assumptions.exitMultiple,
      result: input.assumptions.exitMultiple,
      numFmt: FORMAT.multiple,
    },
    { label: 'FCF per share, year 5', formula: projections.fcf5, result: model.fcf[5]!, numFmt: FORMAT.usd },
    { label: 'Terminal value at year 5', formula: 'B4*B5', result: model.exitTerminalValue, numFmt: FORMAT.usd },
    {
      label: 'Discount factor, year 5',
      formula: projections.discountFactor5,
      result: model.discountFactors[4]!,
      numFmt: FORMAT.factor,
    },
    { label: 'PV of terminal value', formula: 'B6*B7', result: model.exitTerminalPv, numFmt: FORMAT.usd },
    { label: 'Sum of PV of FCF, years 1–5', formula: projections.sumPv, result: model.sumPvFcf, numFmt: FORMAT.usd },
    { label: 'Value per share', formula: 'B8+B9', result: model.exitMultipleValue, numFmt: FORMAT.usd, bold: true },
    {
      label: 'Implied perpetual growth',
      formula: `(B6*${assumptions.wacc}-B5)/(B6+B5)`,
      result: model.impliedExitGrowth,
      numFmt: FORMAT.pct,
      note: 'The g at which the Gordon terminal value equals the exit-multiple one',
    },
  ]);
  return { value: cells[6]! };
}

function addSensitivitySheet(
  workbook: ExcelJS.Workbook,
  assumptions: AssumptionRefs,
  projections: ProjectionRefs,
  model: DcfModel,
): { baseCase: string } {
  const { waccs, growths, values } = model.sensitivity;
  const sheet = addSheet(
    workbook,
    DCF_SHEETS.sensitivity,
    'Value per share (perpetual growth) by WACC and terminal growth',
    ['WACC ↓ · g →'],
    [18, 13, 13, 13, 13, 13],
    1,
  );
  const growthColumns = ['B', 'C', 'D', 'E', 'F'] as const;
  const offset = (base: string, step: number) =>
    step === 0 ? base : `${base}${step > 0 ? '+' : '-'}${Math.abs(step)}`;
  growthColumns.forEach((column, index) => {
    setFormula(
      sheet.getCell(`${column}${HEADER_ROW}`),
      offset(assumptions.terminalGrowth, SENSITIVITY_GROWTH_STEPS[index]!),
      growths[index]!,
      FORMAT.pct,
    );
  });
  styleHeader(sheet.getRow(HEADER_ROW), 6);

  SENSITIVITY_WACC_STEPS.forEach((step, i) => {
    const row = FIRST_DATA_ROW + i;
    const waccCell = sheet.getCell(`A${row}`);
    setFormula(waccCell, offset(assumptions.wacc, step), waccs[i]!, FORMAT.pct);
    waccCell.font = { bold: true };
    waccCell.fill = HEADER_FILL;
    growthColumns.forEach((column, j) => {
      const w = `$A${row}`;
      const g = `${column}$${HEADER_ROW}`;
      // Spelled-out sum rather than SUMPRODUCT over an array expression: any calculation engine evaluates it.
      const pvSum = projections.fcf.map((fcf, k) => `${fcf}/(1+${w})^${projections.years[k]}`).join('+');
      const terminal = `${projections.fcf5}*(1+${g})/(${w}-${g})/(1+${w})^${projections.years[4]}`;
      setFormula(
        sheet.getCell(`${column}${row}`),
        `IF(${w}>${g},${pvSum}+${terminal},NA())`,
        values[i]![j]!,
        FORMAT.usd,
      );
    });
  });
  const baseCell = sheet.getCell('D6');
  baseCell.font = { bold: true };
  baseCell.border = {
    top: { style: 'thin' },
    bottom: { style: 'thin' },
    left: { style: 'thin' },
    right: { style: 'thin' },
  };
  note(sheet, FIRST_DATA_ROW + SENSITIVITY_WACC_STEPS.length + 1, 1, 'Centre cell = base case. #N/A where WACC ≤ g.');
  return { baseCase: ref(sheet, 'D', 6) };
}

function addSummarySheet(
  workbook: ExcelJS.Workbook,
  input: DcfInput,
  refs: {
    assumptions: AssumptionRefs;
    projections: ProjectionRefs;
    dcf: { value: string };
    exit: { value: string };
    sensitivity: { baseCase: string };
  },
  model: DcfModel,
): void {
  const sheet = addSheet(workbook, DCF_SHEETS.summary, 'Valuation summary', ['Metric', 'Value', 'Note'], [44, 14, 60]);
  const { assumptions, projections } = refs;
  // B4 close, B5 DCF, B6 exit, B7 blended, B8 upside, B9 WACC.
  valueRows(sheet, [
    {
      label: 'Last close',
      formula: assumptions.lastClose,
      result: input.lastClose,
      numFmt: FORMAT.usd,
    },
    {
      label: 'Value per share: perpetual growth',
      formula: refs.dcf.value,
      result: model.perpetuityValue,
      numFmt: FORMAT.usd,
    },
    {
      label: 'Value per share: exit multiple',
      formula: refs.exit.value,
      result: model.exitMultipleValue,
      numFmt: FORMAT.usd,
    },
    {
      label: 'Blended value per share',
      formula: 'AVERAGE(B5:B6)',
      result: model.blendedValue,
      numFmt: FORMAT.usd,
      bold: true,
      note: 'Equal-weight average of the two methods',
    },
    { label: 'Upside vs last close', formula: 'B7/B4-1', result: model.upside, numFmt: FORMAT.pct, bold: true },
    { label: 'WACC', formula: assumptions.wacc, result: model.wacc, numFmt: FORMAT.pct },
  ]);

  const checksHeader = 11;
  label(sheet, checksHeader, 'QA checks', true);
  sheet.getCell(checksHeader, 2).value = 'Pass';
  styleHeader(sheet.getRow(checksHeader), 3);
  const checks: { label: string; formula: string; result: boolean }[] = [
    {
      label: 'WACC above terminal growth',
      formula: `${assumptions.wacc}>${assumptions.terminalGrowth}`,
      result: model.checks.waccAboveTerminalGrowth,
    },
    { label: 'All PVs of FCF positive', formula: `MIN(${projections.pv})>0`, result: model.checks.allPvPositive },
    { label: 'Both values per share positive', formula: 'AND(B5>0,B6>0)', result: model.checks.valuesPositive },
    {
      label: 'Sensitivity base case equals DCF value',
      formula: `ABS(${refs.sensitivity.baseCase}-B5)<${CHECK_TOLERANCE}`,
      result: model.checks.sensitivityMatchesDcf,
    },
  ];
  checks.forEach((check, index) => {
    const row = checksHeader + 1 + index;
    label(sheet, row, check.label);
    setFormula(sheet.getCell(row, 2), check.formula, check.result);
  });
  const allRow = checksHeader + 1 + checks.length;
  label(sheet, allRow, 'All checks pass', true);
  setFormula(sheet.getCell(allRow, 2), `AND(B${checksHeader + 1}:B${allRow - 1})`, model.checks.allPass);
  sheet.getCell(allRow, 2).font = { bold: true };
}
