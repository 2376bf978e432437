import { z } from '@hono/zod-openapi';
import { ANALYSTS, PIPELINES } from '../analysis/contract.js';
import { JOB_KINDS, JOB_STATUSES } from '../jobs/lifecycle.js';
import { isIsoDate } from '../trading/calendar.js';

// Request schemas: each validates a request and documents it in the OpenAPI document.

export const IsoDateString = z.string().refine(isIsoDate, { message: 'must be a real date as YYYY-MM-DD' });

const TickerSymbol = z
  .string()
  .regex(/^[A-Za-z0-9.^=-]{1,15}$/, 'a ticker symbol such as AAPL or BRK.B')
  .transform((s) => s.toUpperCase());

export const TriggerSimulationBody = z
  .object({
    start_date: IsoDateString.nullable().optional(),
    end_date: IsoDateString.optional(),
    models: z.array(z.string().min(1)).min(1).max(50).optional(),
    symbols: z.array(TickerSymbol).min(1).max(500).optional(),
  })
  .strict();
export type TriggerSimulationBody = z.infer<typeof TriggerSimulationBody>;

export const StopBody = z.object({ reason: z.string().max(500).optional() }).strict();

const commaList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .optional();

export const ResultsQuery = z
  .object({
    date: IsoDateString.optional(),
    start_date: IsoDateString.optional(),
    end_date: IsoDateString.optional(),
    model: commaList,
    job_id: z.string().min(1).optional(),
    detail: z.enum(['minimal', 'full']).default('minimal'),
  })
  .strict();

export const JobsQuery = z
  .object({
    kind: z.enum(JOB_KINDS).optional(),
    status: z.enum(JOB_STATUSES).optional(),
    model: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

const AnalysisOptions = {
  company: z.string().min(1).max(200).optional(),
  pipeline: z.enum(PIPELINES).default('comprehensive'),
  date: IsoDateString.optional(),
  query: z.string().max(2000).optional(),
  email: z.string().max(320).optional(),
  /** `deterministic` (offline agents) or the id of an LLM model from GET /models. */
  llm: z.string().min(1).max(100).default('deterministic'),
  analysts: z.array(z.enum(ANALYSTS)).min(1).max(4).optional(),
  debate_rounds: z.number().int().min(1).max(5).default(1),
  risk_rounds: z.number().int().min(1).max(3).default(1),
  /** The job's own time limit; the sandbox is killed past it (capped by ANALYSIS_TIMEOUT_S). */
  timeout_s: z.number().int().min(5).max(86_400).optional(),
};

/** `POST /run`: one ticker, or `tickers` for a batch run as child workflows. */
export const RunAnalysisBody = z
  .object({
    ticker: TickerSymbol.optional(),
    tickers: z.array(TickerSymbol).min(1).max(50).optional(),
    ...AnalysisOptions,
  })
  .strict()
  .refine((b) => (b.ticker ? 1 : 0) + (b.tickers ? 1 : 0) === 1, { message: 'give exactly one of ticker or tickers' });
export type RunAnalysisBody = z.infer<typeof RunAnalysisBody>;

/** `POST /jobs`: TradingAgents' shape (ticker + date -> decision). */
export const TradingAgentsJobBody = z
  .object({
    ticker: z
      .string()
      .min(1)
      .max(10)
      .regex(/^[A-Za-z0-9.^=-]+$/, 'a ticker symbol such as AAPL')
      .transform((s) => s.toUpperCase()),
    date: IsoDateString,
    config: z
      .object({
        llm_provider: z.string().optional(),
        deep_think_llm: z.string().optional(),
        quick_think_llm: z.string().optional(),
        max_debate_rounds: z.number().int().min(1).max(5).optional(),
        max_risk_discuss_rounds: z.number().int().min(1).max(3).optional(),
        selected_analysts: z
          .array(z.enum(['market', 'social', 'news', 'fundamentals']))
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type TradingAgentsJobBody = z.infer<typeof TradingAgentsJobBody>;

export const JobIdParams = z.object({
  jobId: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'jobId', in: 'path' }, example: 'sim-6f1c…' }),
});

export const LogsQuery = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,10}$/, 'an event id (a whole number)')
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const DownloadQuery = z.object({ format: z.enum(['pdf']).optional() }).strict();

/** Paging of a simulation's per model-day details (the summary counts are always whole). */
export const DetailsQuery = z
  .object({
    details_limit: z.coerce.number().int().min(0).max(1000).default(100),
    details_cursor: z
      .string()
      .regex(/^\d{1,7}$/, 'a cursor from details_next_cursor')
      .optional(),
  })
  .strict();
export type DetailsQuery = z.infer<typeof DetailsQuery>;
