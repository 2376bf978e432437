import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The shared real market data (AI-Trader / Alpha Vantage format), read in place and never copied into
 * the repo: `../shared/data/ai-trader/` beside the checkout, as CI has it, or `TRADEFLOW_SHARED_DATA`.
 */
export const SHARED_DATA = (process.env.TRADEFLOW_SHARED_DATA ?? `${PROJECT_ROOT}../shared/data/ai-trader`).replace(
  /\/?$/,
  '/',
);
export const DAILY_H1 = `${SHARED_DATA}nasdaq100-daily-2025-01-02_2025-06-27.merged.jsonl`;
export const DAILY_H2 = `${SHARED_DATA}nasdaq100-daily-2025-06-10_2025-10-30.raw.jsonl`;
export const HOURLY = `${SHARED_DATA}nasdaq100-hourly-2025-10-01_2025-11-10.merged.jsonl`;
