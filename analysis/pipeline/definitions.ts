import type { Analyst, Pipeline } from '../contract.js';

export type StepId = 'data' | 'model' | 'analysts' | 'debate' | 'price' | 'report' | 'summaries';

export interface PipelineDefinition {
  description: string;
  steps: StepId[];
  /** Analysts this pipeline runs; `null` means the ones the request selects (all by default). */
  analysts: Analyst[] | null;
  summaries: ('financial' | 'news')[];
  /** Where the price view comes from in the *-to-price pipelines. */
  priceFrom?: 'model' | 'news';
}

/** Each pipeline is a fixed list of steps; a step's outputs are listed in README "Pipelines". */
export const PIPELINE_DEFINITIONS: Record<Pipeline, PipelineDefinition> = {
  comprehensive: {
    description:
      'Everything: market data, DCF workbook, four analysts, bull/bear debate, trader, risk review, portfolio decision, report (markdown + PDF), summaries',
    steps: ['data', 'model', 'analysts', 'debate', 'report', 'summaries'],
    analysts: null,
    summaries: ['financial', 'news'],
  },
  'financial-only': {
    description: 'Market statistics, fundamentals and market analysts, financial summary',
    steps: ['data', 'analysts', 'summaries'],
    analysts: ['fundamentals', 'market'],
    summaries: ['financial'],
  },
  'model-only': {
    description: 'Market statistics and the DCF workbook',
    steps: ['data', 'model'],
    analysts: [],
    summaries: [],
  },
  'news-only': {
    description: 'News and sentiment analysts, news summary',
    steps: ['data', 'analysts', 'summaries'],
    analysts: ['news', 'sentiment'],
    summaries: ['news'],
  },
  'model-to-price': {
    description: 'DCF workbook, then a price target explained from the model',
    steps: ['data', 'model', 'price'],
    analysts: [],
    summaries: [],
    priceFrom: 'model',
  },
  'news-to-price': {
    description: 'News and sentiment analysts, then a price adjustment explained from the news flow',
    steps: ['data', 'analysts', 'price'],
    analysts: ['news', 'sentiment'],
    summaries: [],
    priceFrom: 'news',
  },
};

export const STAGE_NAMES: Record<StepId, string> = {
  data: 'MARKET DATA',
  model: 'FINANCIAL MODEL GENERATION',
  analysts: 'ANALYSTS',
  debate: 'RESEARCH DEBATE AND DECISION',
  price: 'PRICE ADJUSTMENT',
  report: 'PROFESSIONAL REPORT GENERATION',
  summaries: 'SUMMARIES',
};

/** The files a pipeline produces, relative to the job folder (TICKER substituted). */
export function expectedOutputs(pipeline: Pipeline, ticker: string): string[] {
  const def = PIPELINE_DEFINITIONS[pipeline];
  const out = ['info.log', `financials/${ticker}_market_statistics.json`];
  if (def.steps.includes('model')) {
    out.push(`models/${ticker}_financial_model.xlsx`, `models/${ticker}_financial_model_computed_values.json`);
  }
  if (def.steps.includes('price')) {
    out.push(`models/${ticker}_price_adjustment_explanation.md`, `models/${ticker}_price_adjustment_explanation.pdf`);
  }
  if (def.steps.includes('debate')) out.push('decision.json');
  if (def.steps.includes('report')) {
    out.push(`reports/${ticker}_Professional_Analysis_Report.md`, `reports/${ticker}_Professional_Analysis_Report.pdf`);
  }
  for (const s of def.summaries)
    out.push(`summaries/${ticker}_${s}_summary.md`, `summaries/${ticker}_${s}_summary.pdf`);
  return out;
}
