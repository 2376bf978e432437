import { z } from '@hono/zod-openapi';
import { ANALYSTS, PIPELINES } from '../analysis/contract.js';
import { JOB_KINDS, JOB_STATUSES } from '../jobs/lifecycle.js';
import type { SimulationMode } from '../jobs/simulationRun.js';
import { isIsoDate } from '../trading/calendar.js';
import type { TradingCosts } from '../trading/costs.js';

// Request schemas: each validates a request and documents it in the OpenAPI document.

/** Years a date may name: beyond them a date is a typo or a probe, and would print as an odd year. */
export const DATE_YEARS = { min: 1900, max: 2100 } as const;

export const IsoDateString = z
  .string()
  .max(10)
  .refine(isIsoDate, { message: 'must be a real date as YYYY-MM-DD' })
  .refine((s) => Number(s.slice(0, 4)) >= DATE_YEARS.min && Number(s.slice(0, 4)) <= DATE_YEARS.max, {
    message: `must be a date in the years ${DATE_YEARS.min} to ${DATE_YEARS.max}`,
  });

/**
 * A whole number in a query string, written as plain decimal digits: `1e2`, `0x10`, `1.0`, ` 5` or
 * `+5` are refused rather than coerced into something the client did not write.
 */
export const queryInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number written in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback)
    .openapi({ type: 'integer', minimum: min, maximum: max, default: fallback });

/** The `Idempotency-Key` header every start honours: the same key and request again is the same job. */
export const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'Idempotency-Key must be 1 to 200 visible ASCII characters')
  .optional();

/** Names a client may send (model ids, job ids, LLM names): short free text. */
const Name = (max = 100) => z.string().min(1).max(max);

const TickerSymbol = z
  .string()
  .regex(/^[A-Za-z0-9.^=-]{1,15}$/, 'a ticker symbol such as AAPL or BRK.B')
  .transform((s) => s.toUpperCase());

/** Where the job's end is POSTed, signed (Standard Webhooks); checked by server/callbackUrl.ts (422 when refused). */
export const CallbackUrl = z.string().min(1).max(4096).optional().openapi({
  description: 'http(s) URL that receives a signed event (Standard Webhooks) at each end of the job',
  example: 'https://example.com/hooks/tradeflow',
});

const costField = (max: number, description: string) => z.number().min(0).max(max).default(0).openapi({ description });

/** A run's trading costs (trading/costs.ts): every field optional, zero when left out. */
export const TradingCostsBody = z
  .object({
    commission_per_share: costField(100, 'dollars per share traded'),
    commission_per_order: costField(10_000, 'dollars per order'),
    commission_minimum: costField(10_000, 'the least one order’s commission is, dollars'),
    fee_bps: costField(1_000, 'fees on the traded value, basis points'),
    slippage_bps: costField(1_000, 'each fill moves this many basis points of the open against the order'),
    slippage_range_fraction: costField(
      1,
      'plus this fraction of the previous trading day’s high − low range (not the traded day’s: it is unknown at the open)',
    ),
  })
  .strict()
  .openapi('TradingCosts');
export type TradingCostsBody = z.infer<typeof TradingCostsBody>;

/** Every request shape AI-Trader's API documents, plus `symbols`; server/triggerRequest.ts resolves them. */
export const TriggerSimulationBody = z
  .object({
    config_path: z.string().min(1).max(1024).optional().openapi({
      description:
        'an AI-Trader config inside the config folder (TRADEFLOW_CONFIG_DIR), relative or absolute: its enabled models, date range and initial cash apply unless the request names them',
      example: 'configs/default_config.json',
    }),
    date_range: z
      .array(IsoDateString)
      .min(1)
      .max(2)
      .optional()
      .openapi({ description: '`[start, end]`, or `[date]` for one day; instead of start_date/end_date' }),
    start_date: IsoDateString.nullable().optional(),
    end_date: IsoDateString.optional(),
    models: z.array(Name()).min(1).max(50).optional(),
    symbols: z.array(TickerSymbol).min(1).max(500).optional(),
    replace_existing: z.boolean().optional().openapi({
      description:
        'false (the default): days a model already has are not run again; true: they are, from the start date on, and the new days become the ledger (the old ones are kept as history)',
    }),
    mode: z.enum(['paper', 'backtest']).optional().openapi({
      description:
        '`paper` (the default): each model trades its continuing ledger, from where it ends. `backtest`: a fresh portfolio of the run’s own over the period (start_date required), which can be run any number of times; its days are read with `/results?job_id=`',
    }),
    initial_cash: z.number().positive().max(1e12).optional().openapi({
      description: 'cash each model starts with when it has no ledger yet (every model, in a backtest); dollars',
    }),
    benchmark: z
      .string()
      .regex(/^([A-Za-z0-9.^-]{1,15}|none)$/, 'a ticker, or none')
      .optional()
      .openapi({ description: 'backtests: the ticker its results and tear sheet measure it against (QQQ by default)' }),
    costs: TradingCostsBody.optional(),
    interval: z.enum(['1d', '1h']).optional().openapi({
      description:
        'backtests: `1d` (the default) trades once a day at the open; `1h` once per hourly bar 10:00..15:00 New York (AI-Trader’s hour agent), from MARKET_HOURLY_FILES',
    }),
    callback_url: CallbackUrl,
  })
  .strict();
export type TriggerSimulationBody = z.infer<typeof TriggerSimulationBody>;

/** A trigger with its config read and its dates settled: what the simulation service plans from. */
export interface ResolvedTrigger {
  start_date?: string | null;
  end_date?: string;
  models?: string[];
  symbols?: string[];
  /** From an AI-Trader config: cash each model without a ledger starts with. */
  initial_cash?: number;
  /** `replace_existing: true`: days the models already have from the start on are run again. */
  replace?: boolean;
  mode: SimulationMode;
  /** Backtests: the benchmark ticker, upper case; null: `none`. */
  benchmark?: string | null;
  costs?: TradingCosts;
  /** Hourly sessions instead of days (backtests). */
  hourly?: boolean;
}

export const StopBody = z.object({ reason: z.string().max(500).optional() }).strict();

/** How many distinct names a comma list may hold (`/results?model=`). */
export const MAX_LIST_ITEMS = 50;

/** A comma list of names, each once: duplicates are dropped, and more than the cap is refused. */
const commaList = z
  .string()
  .max(16_384)
  .transform((s, ctx) => {
    const items = [
      ...new Set(
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ];
    if (items.length > MAX_LIST_ITEMS) {
      ctx.addIssue({ code: 'custom', message: `names at most ${MAX_LIST_ITEMS} distinct items, got ${items.length}` });
      return z.NEVER;
    }
    const long = items.find((x) => x.length > 100);
    if (long) {
      ctx.addIssue({ code: 'custom', message: `an item is over 100 characters: '${long.slice(0, 20)}…'` });
      return z.NEVER;
    }
    return items;
  })
  .optional()
  .openapi({ type: 'string', description: `comma-separated, at most ${MAX_LIST_ITEMS} distinct items` });

export const ResultsQuery = z
  .object({
    date: IsoDateString.optional(),
    start_date: IsoDateString.optional(),
    end_date: IsoDateString.optional(),
    model: commaList,
    job_id: Name(200).optional(),
    benchmark: z
      .string()
      .regex(/^([A-Za-z0-9.^-]{1,15}|none)$/, 'a ticker, or none')
      .optional()
      .openapi({
        description:
          'the buy-and-hold baseline for alpha, beta, tracking error and information ratio: QQQ by default, `none` for none',
      }),
    detail: z.enum(['minimal', 'full']).optional().openapi({ description: 'minimal (the default) or full' }),
    reasoning: z
      .enum(['none', 'summary', 'full'])
      .optional()
      .openapi({ description: 'AI-Trader v0.5’s name for detail: `full` is detail=full, the others minimal' }),
  })
  .strict();

const BenchmarkParam = z
  .string()
  .regex(/^([A-Za-z0-9.^-]{1,15}|none)$/, 'a ticker, or none')
  .optional()
  .openapi({ description: 'the buy-and-hold baseline: a backtest’s own, else QQQ; `none` for none' });

export const CompareQuery = z
  .object({
    job_id: Name(200).optional().openapi({ description: 'a run: its models over its dates, from its ledger' }),
    model: commaList,
    start_date: IsoDateString.optional(),
    end_date: IsoDateString.optional(),
    benchmark: BenchmarkParam,
    confidence: z
      .enum(['0.8', '0.9', '0.95', '0.99'])
      .default('0.95')
      .transform(Number)
      .openapi({ type: 'string', description: 'of the bootstrap intervals' }),
    resamples: queryInt(100, 10_000, 2_000).openapi({ description: 'bootstrap resamples' }),
  })
  .strict();

export const JobsQuery = z
  .object({
    kind: z.enum(JOB_KINDS).optional(),
    status: z.enum(JOB_STATUSES).optional(),
    model: Name().optional(),
    limit: queryInt(1, 200, 50),
    offset: queryInt(0, 1_000_000, 0),
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
  callback_url: CallbackUrl,
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
        llm_provider: Name().optional(),
        deep_think_llm: Name().optional(),
        quick_think_llm: Name().optional(),
        max_debate_rounds: z.number().int().min(1).max(5).optional(),
        max_risk_discuss_rounds: z.number().int().min(1).max(3).optional(),
        selected_analysts: z
          .array(z.enum(['market', 'social', 'news', 'fundamentals']))
          .min(1)
          .max(4)
          .optional(),
      })
      .strict()
      .optional(),
    callback_url: CallbackUrl,
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
    limit: queryInt(1, 500, 100),
  })
  .strict();

export const DownloadQuery = z.object({ format: z.enum(['pdf']).optional() }).strict();

/** Paging of a simulation's per model-day details (the summary counts are always whole). */
export const DetailsQuery = z
  .object({
    /** 0 gives the counts alone (and no cursor to follow). */
    details_limit: queryInt(0, 1000, 100),
    details_cursor: z
      .string()
      .regex(/^\d{1,7}$/, 'a cursor from details_next_cursor')
      .optional(),
  })
  .strict();
export type DetailsQuery = z.infer<typeof DetailsQuery>;
