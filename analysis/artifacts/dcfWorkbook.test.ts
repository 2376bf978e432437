import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import readXlsxFile, { type Sheet } from 'read-excel-file/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormulaEvaluator, isFormulaError, type Scalar } from '../../test/support/xlsxFormulaEvaluator.js';
import { DCF_SHEETS, type DcfInput, DcfInputError, type DcfValues, writeDcfWorkbook } from './dcfWorkbook.js';

const sampleInput = (): DcfInput => ({
  ticker: 'AAPL',
  company: 'Apple Inc.',
  asOf: '2024-03-01',
  lastClose: 179.66,
  // Deliberately out of order: the workbook sorts by month.
  monthlyCloses: [
    { month: '2023-12', close: 192.53 },
    { month: '2023-10', close: 170.77 },
    { month: '2023-11', close: 189.95 },
    { month: '2024-01', close: 184.4 },
    { month: '2024-02', close: 180.75 },
  ],
  beta: 1.18,
  assumptions: {
    riskFreeRate: 0.042,
    equityRiskPremium: 0.055,
    fcfYield: 0.035,
    growth: [0.09, 0.075, 0.06, 0.045, 0.03],
    terminalGrowth: 0.025,
    exitMultiple: 20,
  },
  sources: {
    beta: 'Measured: daily returns vs SPY, 2023-03-01..2024-03-01',
    riskFreeRate: 'Assumption: 10-year US Treasury yield, 4.2%',
    equityRiskPremium: 'Assumption: long-run US equity risk premium, 5.5%',
    fcfYield: 'Assumption: FCF per share = 3.5% of the last close',
    growth: 'Half the trailing 1-year return, fading to the terminal rate',
    terminalGrowth: 'Assumption: long-run nominal growth, 2.5%',
    exitMultiple: 'Assumption: 20x year-5 FCF',
    analyst: 'Reviewed by the fundamentals analyst',
  },
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tradeflow-dcf-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Sheet XML straight from the zip, by sheet name (workbook.xml → rels → part), without an xlsx library. */
function sheetXml(file: string, sheetName: string): string {
  const unzip = (part: string) => execFileSync('unzip', ['-p', file, part], { encoding: 'utf8' });
  const workbook = unzip('xl/workbook.xml');
  const escaped = sheetName.replace(/[()]/g, (c) => `\\${c}`);
  const relId = new RegExp(`<sheet [^>]*name="${escaped}"[^>]*r:id="([^"]+)"`).exec(workbook)?.[1];
  const target = new RegExp(`Id="${relId}"[^>]*Target="([^"]+)"`).exec(unzip('xl/_rels/workbook.xml.rels'))?.[1];
  if (!relId || !target) throw new Error(`sheet ${sheetName} not found in ${file}`);
  return unzip(`xl/${target.replace(/^\/?xl\//, '')}`);
}

/** The <c> element of one cell. */
function cellXml(xml: string, address: string): string {
  const match = new RegExp(`<c r="${address}"[^>]*?(?:/>|>[\\s\\S]*?</c>)`).exec(xml);
  if (!match) throw new Error(`cell ${address} not in sheet XML`);
  return match[0];
}

function valueAt(sheets: Sheet[], name: string, address: string): unknown {
  const data = sheets.find((sheet) => sheet.sheet === name)?.data;
  const match = /^([A-Z])(\d+)$/.exec(address)!;
  return data?.[Number(match[2]) - 1]?.[match[1]!.charCodeAt(0) - 65];
}

async function formulaCells(file: string): Promise<{ workbook: ExcelJS.Workbook; evaluator: FormulaEvaluator }> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const scalarOf = (value: ExcelJS.CellValue): Scalar => {
    if (value === null || value === undefined) return null;
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
    if (typeof value === 'object' && 'error' in value) return { error: value.error };
    if (typeof value === 'object' && 'richText' in value) return value.richText.map((run) => run.text).join('');
    throw new Error(`unexpected cell value ${JSON.stringify(value)}`);
  };
  const evaluator = new FormulaEvaluator((sheet, address) => {
    const cell = workbook.getWorksheet(sheet)?.getCell(address);
    if (!cell) return undefined;
    return cell.formula ? { formula: cell.formula, value: null } : { value: scalarOf(cell.value) };
  });
  return { workbook, evaluator };
}

describe('writeDcfWorkbook', () => {
  let file: string;
  let values: DcfValues;
  let sheets: Sheet[];

  beforeAll(async () => {
    file = join(dir, 'models', 'AAPL_financial_model.xlsx');
    values = await writeDcfWorkbook(file, sampleInput());
    sheets = await readXlsxFile(file);
  });

  it('has the seven sheets in order', () => {
    expect(sheets.map((sheet) => sheet.sheet)).toEqual(Object.values(DCF_SHEETS));
  });

  it('returns the values the cached formula results hold (read back with read-excel-file)', () => {
    const a = sampleInput().assumptions;
    expect(values.wacc).toBeCloseTo(a.riskFreeRate + 1.18 * a.equityRiskPremium, 12);
    expect(valueAt(sheets, 'Assumptions', 'B8')).toBeCloseTo(values.wacc, 12);
    expect(valueAt(sheets, 'Summary', 'B5')).toBeCloseTo(values.perpetuityValue, 9);
    expect(valueAt(sheets, 'Summary', 'B6')).toBeCloseTo(values.exitMultipleValue, 9);
    expect(valueAt(sheets, 'Summary', 'B7')).toBeCloseTo(values.blendedValue, 9);
    expect(valueAt(sheets, 'Summary', 'B8')).toBeCloseTo(values.upside, 12);
    expect(valueAt(sheets, 'Valuation (DCF)', 'B12')).toBeCloseTo(values.perpetuityValue, 9);
    expect(valueAt(sheets, 'Valuation (Exit Multiple)', 'B10')).toBeCloseTo(values.exitMultipleValue, 9);
    expect(values.pvFcf).toHaveLength(5);
    ['C', 'D', 'E', 'F', 'G'].forEach((column, index) => {
      expect(valueAt(sheets, 'Projections', `${column}7`)).toBeCloseTo(values.pvFcf[index]!, 9);
    });
    values.sensitivity.waccs.forEach((wacc, i) => {
      expect(valueAt(sheets, 'Sensitivity', `A${4 + i}`)).toBeCloseTo(wacc, 12);
      values.sensitivity.growths.forEach((growth, j) => {
        const column = String.fromCharCode(66 + j);
        if (i === 0) expect(valueAt(sheets, 'Sensitivity', `${column}3`)).toBeCloseTo(growth, 12);
        expect(valueAt(sheets, 'Sensitivity', `${column}${4 + i}`)).toBeCloseTo(values.sensitivity.values[i]![j]!, 9);
      });
    });
    // Base case of the grid is the DCF value; blended is the plain average; upside is against the last close.
    expect(values.sensitivity.values[2]![2]).toBeCloseTo(values.perpetuityValue, 9);
    expect(values.blendedValue).toBeCloseTo((values.perpetuityValue + values.exitMultipleValue) / 2, 12);
    expect(values.upside).toBeCloseTo(values.blendedValue / 179.66 - 1, 12);
  });

  it('shows the assumptions with their sources, and the history sorted with returns', () => {
    expect(valueAt(sheets, 'Assumptions', 'C5')).toBe('Measured: daily returns vs SPY, 2023-03-01..2024-03-01');
    const assumptions = sheets.find((sheet) => sheet.sheet === 'Assumptions')!.data.flat();
    expect(assumptions).toContain('Half the trailing 1-year return, fading to the terminal rate');
    expect(assumptions).toContain('Reviewed by the fundamentals analyst');
    expect(valueAt(sheets, 'Historical', 'A4')).toBe('2023-10');
    expect(valueAt(sheets, 'Historical', 'A8')).toBe('2024-02');
    expect(valueAt(sheets, 'Historical', 'C5')).toBeCloseTo(189.95 / 170.77 - 1, 12);
  });

  it('passes its QA checks for sane input', () => {
    for (const row of [12, 13, 14, 15, 16]) expect(valueAt(sheets, 'Summary', `B${row}`)).toBe(true);
    expect(values.checks).toEqual({
      waccAboveTerminalGrowth: true,
      allPvPositive: true,
      valuesPositive: true,
      sensitivityMatchesDcf: true,
      allPass: true,
    });
  });

  it('stores live formulas, not constants, in the model cells', () => {
    const projections = sheetXml(file, 'Projections');
    for (const column of ['C', 'D', 'E', 'F', 'G']) {
      expect(cellXml(projections, `${column}7`)).toMatch(/<f>[^<]+<\/f><v>[-0-9.eE]+<\/v>/);
      expect(cellXml(projections, `${column}5`)).toContain('<f>');
    }
    const sensitivity = sheetXml(file, 'Sensitivity');
    for (const row of [4, 5, 6, 7, 8]) {
      for (const column of ['B', 'C', 'D', 'E', 'F']) {
        expect(cellXml(sensitivity, `${column}${row}`)).toMatch(/<f>IF\(\$A\d&gt;[^<]+<\/f>/);
      }
    }
    expect(cellXml(sheetXml(file, 'Assumptions'), 'B8')).toContain('<f>B6+B5*B7</f>');
    expect(cellXml(sheetXml(file, 'Summary'), 'B16')).toMatch(/t="b"[^>]*><f>AND\(B12:B15\)<\/f><v>1<\/v>/);
    expect(cellXml(sheetXml(file, 'Valuation (DCF)'), 'B8')).toContain('<f>B7/(B4-B5)</f>');
  });

  it('has formulas that recompute to the cached results from the inputs alone', async () => {
    const { workbook, evaluator } = await formulaCells(file);
    let checked = 0;
    workbook.eachSheet((sheet) => {
      sheet.eachRow((row) =>
        row.eachCell((cell) => {
          if (!cell.formula) return;
          const computed = evaluator.cell(sheet.name, cell.address);
          const cached = cell.result;
          if (typeof cached === 'number') expect(computed, `${sheet.name}!${cell.address}`).toBeCloseTo(cached, 9);
          else expect(computed, `${sheet.name}!${cell.address}`).toEqual(cached);
          checked++;
        }),
      );
    });
    expect(checked).toBeGreaterThan(60);
  });

  it('has number formats, widths, bold headers and frozen header rows', async () => {
    const { workbook } = await formulaCells(file);
    const assumptions = workbook.getWorksheet('Assumptions')!;
    expect(assumptions.getCell('B8').numFmt).toBe('0.00%');
    expect(assumptions.getCell('B4').numFmt).toContain('$');
    expect(assumptions.getCell('A3').font?.bold).toBe(true);
    expect(assumptions.getColumn(3).width).toBeGreaterThan(40);
    for (const name of Object.values(DCF_SHEETS)) {
      const view = workbook.getWorksheet(name)!.views[0];
      expect(view?.state, name).toBe('frozen');
      expect(view && 'ySplit' in view ? view.ySplit : undefined, name).toBe(3);
    }
  });
});

describe('writeDcfWorkbook with unusable input', () => {
  it('throws a DcfInputError and writes nothing when WACC <= terminal growth', async () => {
    const input = sampleInput();
    input.beta = 0.2;
    input.assumptions.riskFreeRate = 0.02;
    input.assumptions.terminalGrowth = 0.035; // WACC = 0.02 + 0.2 × 0.055 = 0.031
    const file = join(dir, 'bad.xlsx');
    const error = await writeDcfWorkbook(file, input).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DcfInputError);
    expect((error as DcfInputError).code).toBe('WACC_NOT_ABOVE_TERMINAL_GROWTH');
    expect(existsSync(file)).toBe(false);
  });

  it('rejects non-finite numbers', async () => {
    const input = sampleInput();
    input.assumptions.growth[2] = Number.NaN;
    await expect(writeDcfWorkbook(join(dir, 'nan.xlsx'), input)).rejects.toMatchObject({ code: 'INVALID_NUMBER' });
  });

  it('marks sensitivity cells where WACC <= g as #N/A (NaN in the values)', async () => {
    const input = sampleInput();
    input.beta = 0.3;
    input.assumptions.riskFreeRate = 0.03; // WACC 4.65%: the lowest grid WACC (2.65%) is below the top grid g (3.5%)
    const file = join(dir, 'tight.xlsx');
    const values = await writeDcfWorkbook(file, input);
    expect(values.sensitivity.values[0]!.map(Number.isNaN)).toEqual([false, false, false, true, true]);
    expect(values.sensitivity.values[2]!.some(Number.isNaN)).toBe(false);
    const xml = sheetXml(file, 'Sensitivity');
    expect(cellXml(xml, 'F4')).toMatch(/t="e"[^>]*><f>[^<]+<\/f><v>#N\/A<\/v>/);
    const { evaluator } = await formulaCells(file);
    expect(evaluator.cell('Sensitivity', 'F4')).toEqual({ error: '#N/A' });
    expect(isFormulaError(evaluator.cell('Sensitivity', 'B4'))).toBe(false);
    expect(values.checks.allPass).toBe(true);
  });
});
