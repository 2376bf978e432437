// The per-share DCF arithmetic, in plain TypeScript. The workbook writes the same arithmetic as live formulas
// and caches these numbers as their results, so both must change together.

export interface DcfInput {
  ticker: string;
  company: string;
  /** ISO date. */
  asOf: string;
  /** Dollars per share. */
  lastClose: number;
  /** Month-end closes ('YYYY-MM'), real data; sorted by month before use. */
  monthlyCloses: { month: string; close: number }[];
  /** Estimated by the caller from daily returns against a benchmark. */
  beta: number;
  assumptions: {
    riskFreeRate: number;
    equityRiskPremium: number;
    /** Starting free cash flow per share = lastClose × fcfYield. */
    fcfYield: number;
    /** FCF growth for years 1..5. */
    growth: [number, number, number, number, number];
    terminalGrowth: number;
    /** Multiple applied to year-5 FCF. */
    exitMultiple: number;
  };
  /** Where each assumption came from, keyed like the assumption (`beta`, `growth`, …); shown beside it. */
  sources: Record<string, string>;
}

export interface DcfChecks {
  waccAboveTerminalGrowth: boolean;
  allPvPositive: boolean;
  valuesPositive: boolean;
  sensitivityMatchesDcf: boolean;
  allPass: boolean;
}

export interface DcfValues {
  wacc: number;
  /** Present value of FCF per share, years 1..5. */
  pvFcf: number[];
  perpetuityValue: number;
  exitMultipleValue: number;
  blendedValue: number;
  /** blendedValue / lastClose − 1. */
  upside: number;
  /** values[i][j] is the perpetual-growth value at waccs[i] and growths[j]; NaN where WACC ≤ g (#N/A in the sheet). */
  sensitivity: { waccs: number[]; growths: number[]; values: number[][] };
  /** The Summary sheet's QA checks. */
  checks: DcfChecks;
}

/** Every intermediate the workbook shows, so each formula cell can cache its result. */
export interface DcfModel extends DcfValues {
  months: { month: string; close: number; monthlyReturn: number | null }[];
  averageMonthlyReturn: number | null;
  annualisedVolatility: number | null;
  /** FCF per share for years 0..5. */
  fcf: number[];
  /** Years 1..5. */
  discountFactors: number[];
  sumPvFcf: number;
  terminalFcf: number;
  gordonTerminalValue: number;
  gordonTerminalPv: number;
  terminalShareOfValue: number;
  exitTerminalValue: number;
  exitTerminalPv: number;
  impliedExitGrowth: number;
}

export const SENSITIVITY_WACC_STEPS = [-0.02, -0.01, 0, 0.01, 0.02] as const;
export const SENSITIVITY_GROWTH_STEPS = [-0.01, -0.005, 0, 0.005, 0.01] as const;
export const PROJECTION_YEARS = 5;
/** Tolerance of the "sensitivity base case equals the DCF value" check. */
export const CHECK_TOLERANCE = 1e-6;

export type DcfInputErrorCode = 'WACC_NOT_ABOVE_TERMINAL_GROWTH' | 'INVALID_NUMBER';

/**
 * Input the model cannot value. WACC ≤ terminal growth throws rather than clamps: the Gordon formula has no
 * meaning there, and a silently clamped rate would put a made-up number in a client report.
 */
export class DcfInputError extends Error {
  override readonly name = 'DcfInputError';
  constructor(
    readonly code: DcfInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function costOfEquity(input: DcfInput): number {
  return input.assumptions.riskFreeRate + input.beta * input.assumptions.equityRiskPremium;
}

export function computeDcfModel(input: DcfInput): DcfModel {
  validate(input);
  const a = input.assumptions;
  const wacc = costOfEquity(input);
  if (!(wacc > a.terminalGrowth)) {
    throw new DcfInputError(
      'WACC_NOT_ABOVE_TERMINAL_GROWTH',
      `WACC ${formatPct(wacc)} must exceed terminal growth ${formatPct(a.terminalGrowth)} for a terminal value`,
    );
  }

  const fcf = [input.lastClose * a.fcfYield];
  for (const growth of a.growth) fcf.push(fcf.at(-1)! * (1 + growth));
  const years = Array.from({ length: PROJECTION_YEARS }, (_, index) => index + 1);
  const discountFactors = years.map((year) => 1 / (1 + wacc) ** year);
  const pvFcf = years.map((year) => fcf[year]! * discountFactors[year - 1]!);
  const sumPvFcf = sum(pvFcf);
  const fcf5 = fcf[PROJECTION_YEARS]!;
  const discount5 = discountFactors[PROJECTION_YEARS - 1]!;

  const terminalFcf = fcf5 * (1 + a.terminalGrowth);
  const gordonTerminalValue = terminalFcf / (wacc - a.terminalGrowth);
  const gordonTerminalPv = gordonTerminalValue * discount5;
  const perpetuityValue = gordonTerminalPv + sumPvFcf;

  const exitTerminalValue = a.exitMultiple * fcf5;
  const exitTerminalPv = exitTerminalValue * discount5;
  const exitMultipleValue = exitTerminalPv + sumPvFcf;

  const blendedValue = (perpetuityValue + exitMultipleValue) / 2;
  const sensitivity = sensitivityGrid(fcf, wacc, a.terminalGrowth);
  const baseCase = sensitivity.values[2]?.[2] ?? Number.NaN;
  const checks = {
    waccAboveTerminalGrowth: wacc > a.terminalGrowth,
    allPvPositive: Math.min(...pvFcf) > 0,
    valuesPositive: perpetuityValue > 0 && exitMultipleValue > 0,
    sensitivityMatchesDcf: Math.abs(baseCase - perpetuityValue) < CHECK_TOLERANCE,
  };

  return {
    ...historicalStats(input.monthlyCloses),
    wacc,
    fcf,
    discountFactors,
    pvFcf,
    sumPvFcf,
    terminalFcf,
    gordonTerminalValue,
    gordonTerminalPv,
    perpetuityValue,
    terminalShareOfValue: gordonTerminalPv / perpetuityValue,
    exitTerminalValue,
    exitTerminalPv,
    exitMultipleValue,
    impliedExitGrowth: (exitTerminalValue * wacc - fcf5) / (exitTerminalValue + fcf5),
    blendedValue,
    upside: blendedValue / input.lastClose - 1,
    sensitivity,
    checks: { ...checks, allPass: Object.values(checks).every(Boolean) },
  };
}

/** Value per share by the perpetual-growth method for any WACC and g; NaN where the Gordon formula breaks. */
export function perpetuityValueAt(fcf: readonly number[], wacc: number, growth: number): number {
  if (!(wacc > growth)) return Number.NaN;
  let value = 0;
  for (let year = 1; year <= PROJECTION_YEARS; year++) value += fcf[year]! / (1 + wacc) ** year;
  const fcf5 = fcf[PROJECTION_YEARS]!;
  return value + (fcf5 * (1 + growth)) / (wacc - growth) / (1 + wacc) ** PROJECTION_YEARS;
}

function sensitivityGrid(fcf: readonly number[], wacc: number, terminalGrowth: number): DcfValues['sensitivity'] {
  const waccs = SENSITIVITY_WACC_STEPS.map((step) => wacc + step);
  const growths = SENSITIVITY_GROWTH_STEPS.map((step) => terminalGrowth + step);
  return { waccs, growths, values: waccs.map((w) => growths.map((g) => perpetuityValueAt(fcf, w, g))) };
}

function historicalStats(
  monthlyCloses: DcfInput['monthlyCloses'],
): Pick<DcfModel, 'months' | 'averageMonthlyReturn' | 'annualisedVolatility'> {
  const sorted = [...monthlyCloses].sort((x, y) => (x.month < y.month ? -1 : x.month > y.month ? 1 : 0));
  const months = sorted.map((entry, index) => {
    const previous = sorted[index - 1];
    return { ...entry, monthlyReturn: previous ? entry.close / previous.close - 1 : null };
  });
  const returns = months.flatMap((entry) => (entry.monthlyReturn === null ? [] : [entry.monthlyReturn]));
  // Sample statistics need two returns, as the sheet's AVERAGE/STDEV would.
  if (returns.length < 2) return { months, averageMonthlyReturn: null, annualisedVolatility: null };
  const mean = sum(returns) / returns.length;
  const variance = sum(returns.map((r) => (r - mean) ** 2)) / (returns.length - 1);
  return { months, averageMonthlyReturn: mean, annualisedVolatility: Math.sqrt(variance) * Math.sqrt(12) };
}

function validate(input: DcfInput): void {
  const a = input.assumptions;
  const numbers: Record<string, number> = {
    lastClose: input.lastClose,
    beta: input.beta,
    riskFreeRate: a.riskFreeRate,
    equityRiskPremium: a.equityRiskPremium,
    fcfYield: a.fcfYield,
    terminalGrowth: a.terminalGrowth,
    exitMultiple: a.exitMultiple,
  };
  a.growth.forEach((growth, index) => {
    numbers[`growth[${index}]`] = growth;
  });
  for (const [name, value] of Object.entries(numbers)) {
    if (!Number.isFinite(value)) throw new DcfInputError('INVALID_NUMBER', `${name} is not a finite number: ${value}`);
  }
  if (a.growth.length !== PROJECTION_YEARS) {
    throw new DcfInputError('INVALID_NUMBER', `growth needs ${PROJECTION_YEARS} years, got ${a.growth.length}`);
  }
  if (!(input.lastClose > 0))
    throw new DcfInputError('INVALID_NUMBER', `lastClose must be positive: ${input.lastClose}`);
  for (const { month, close } of input.monthlyCloses) {
    if (!(Number.isFinite(close) && close > 0)) {
      throw new DcfInputError('INVALID_NUMBER', `monthly close for ${month} must be a positive number: ${close}`);
    }
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function formatPct(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}
