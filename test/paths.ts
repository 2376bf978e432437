import { fileURLToPath } from 'node:url';

/** The shared real market data (AI-Trader / Alpha Vantage format), read in place: never copied into the repo. */
export const SHARED_DATA = fileURLToPath(new URL('../../shared/data/ai-trader/', import.meta.url));
export const DAILY_H1 = `${SHARED_DATA}nasdaq100-daily-2025-01-02_2025-06-27.merged.jsonl`;
export const DAILY_H2 = `${SHARED_DATA}nasdaq100-daily-2025-06-10_2025-10-30.raw.jsonl`;
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
