import { computeDcfModel, type DcfInput } from './artifacts/dcfModel.js';
import type { MarketFacts } from './marketFacts.js';

export type { DcfInput };

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Offline there are no financial statements, so the model is a per-share DCF seeded from the price:
 * the starting free cash flow is an assumed yield on the price, growth fades from the trailing year's
 * return to the terminal rate, and the discount rate is CAPM with a beta measured against the benchmark.
 */
export function dcfInputFromFacts(facts: MarketFacts, company: string): DcfInput {
  const measuredBeta = facts.beta === null ? null : round4(clamp(facts.beta, 0.3, 2.5));
  const trailing = facts.returns.y1 ?? facts.returns.m6 ?? 0;
  const g1 = round4(clamp(trailing * 0.5, -0.05, 0.2));
  const terminalGrowth = 0.025;
  const fade = (i: number) => round4(g1 + ((terminalGrowth - g1) * i) / 4);
  return {
    ticker: facts.ticker,
    company,
    asOf: facts.asOf,
    lastClose: facts.lastClose,
    monthlyCloses: facts.monthlyCloses,
    beta: measuredBeta ?? 1,
    assumptions: {
      riskFreeRate: 0.042,
      equityRiskPremium: 0.055,
      fcfYield: 0.035,
      growth: [fade(0), fade(1), fade(2), fade(3), fade(4)],
      terminalGrowth,
      exitMultiple: 20,
    },
    sources: {
      beta:
        measuredBeta === null
          ? 'Assumed 1.0: not enough overlapping history with the benchmark'
          : `Measured: daily returns vs ${facts.benchmark?.symbol ?? 'benchmark'}, ${facts.firstDate}..${facts.lastDate}, clamped to 0.3..2.5`,
      riskFreeRate: 'Assumption: 10-year US Treasury yield, 4.2%',
      equityRiskPremium: 'Assumption: long-run US equity risk premium, 5.5%',
      fcfYield: 'Assumption (no statements offline): free cash flow per share = 3.5% of the last close',
      growth: `Half the trailing ${facts.returns.y1 === null ? '6-month' : '1-year'} price return (${(trailing * 100).toFixed(1)}%), clamped to -5%..20%, fading linearly to the terminal rate`,
      terminalGrowth: 'Assumption: long-run nominal growth, 2.5%',
      exitMultiple: 'Assumption: 20x year-5 free cash flow',
    },
  };
}

export interface DcfSummary {
  wacc: number;
  perpetuityValue: number;
  exitMultipleValue: number;
  blendedValue: number;
  upside: number;
}

/** The workbook's own arithmetic, for steps that need the values without writing the file. */
export function computeDcfSummary(input: DcfInput): DcfSummary {
  const m = computeDcfModel(input);
  return {
    wacc: m.wacc,
    perpetuityValue: m.perpetuityValue,
    exitMultipleValue: m.exitMultipleValue,
    blendedValue: m.blendedValue,
    upside: m.upside,
  };
}
