// Cell-level helpers for formula workbooks written with exceljs: formats, styled headers, formula cells that
// always cache a result, and sheet-qualified absolute references.
import type ExcelJS from 'exceljs';

export const FORMAT = {
  usd: '"$"#,##0.00',
  pct: '0.00%',
  multiple: '0.0"x"',
  factor: '0.0000',
  decimal: '0.00',
} as const;

/** Financial-model convention: inputs in blue, formulas in black. */
const INPUT_FONT: Partial<ExcelJS.Font> = { color: { argb: 'FF1F4E9A' } };
export const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE7ECF3' } };
export const HEADER_ROW = 3;
export const FIRST_DATA_ROW = HEADER_ROW + 1;

export type CachedResult = number | boolean | ExcelJS.CellErrorValue;

export function setFormula(cell: ExcelJS.Cell, formula: string, result: CachedResult, numFmt?: string): void {
  // NaN would be written as a number the file format cannot hold: the sheet shows #N/A for it instead.
  const cached: CachedResult = typeof result === 'number' && !Number.isFinite(result) ? { error: '#N/A' } : result;
  cell.value = { formula, result: cached };
  if (numFmt) cell.numFmt = numFmt;
}

export function setInput(cell: ExcelJS.Cell, value: number | string, numFmt?: string): void {
  cell.value = value;
  cell.font = INPUT_FONT;
  if (numFmt) cell.numFmt = numFmt;
}

/** An absolute reference usable from any sheet, e.g. 'Valuation (DCF)'!$B$12. */
export function ref(sheet: ExcelJS.Worksheet, column: string, row: number): string {
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(sheet.name) ? sheet.name : `'${sheet.name.replace(/'/g, "''")}'`;
  return `${name}!$${column}$${row}`;
}

export function addSheet(
  workbook: ExcelJS.Workbook,
  name: string,
  title: string,
  headers: readonly string[],
  widths: readonly number[],
  frozenColumns = 0,
): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(name, {
    views: [{ state: 'frozen', ySplit: HEADER_ROW, xSplit: frozenColumns }],
  });
  sheet.columns = widths.map((width) => ({ width }));
  const titleCell = sheet.getCell(1, 1);
  titleCell.value = title;
  titleCell.font = { bold: true, size: 13 };
  const header = sheet.getRow(HEADER_ROW);
  headers.forEach((text, index) => {
    header.getCell(index + 1).value = text;
  });
  styleHeader(header, headers.length);
  return sheet;
}

export function styleHeader(row: ExcelJS.Row, columns: number): void {
  for (let column = 1; column <= columns; column++) {
    const cell = row.getCell(column);
    cell.font = { bold: true };
    cell.fill = HEADER_FILL;
    cell.border = { bottom: { style: 'thin' } };
  }
}

export function label(sheet: ExcelJS.Worksheet, row: number, text: string, bold = false): void {
  const cell = sheet.getCell(row, 1);
  cell.value = text;
  if (bold) cell.font = { bold: true };
}

export function note(sheet: ExcelJS.Worksheet, row: number, column: number, text: string): void {
  const cell = sheet.getCell(row, column);
  cell.value = text;
  cell.font = { italic: true, color: { argb: 'FF595959' } };
  cell.alignment = { wrapText: true, vertical: 'top' };
}
