import { z } from '@hono/zod-openapi';
import { ANALYSIS_LIFECYCLE, JOB_STATUSES, MODEL_DAY_STATUSES, SIMULATION_LIFECYCLE } from '../jobs/lifecycle.js';

// Response bodies: the presenters are typed by these, and the OpenAPI document shows them.

const isoTime = z.string().openapi({ format: 'date-time' });
const nullableTime = isoTime.nullable();
const isoDate = z.string().openapi({ format: 'date', example: '2025-03-03' });

const SimulationStatus = z.enum(SIMULATION_LIFECYCLE.statuses);
const AnalysisStatus = z.enum(ANALYSIS_LIFECYCLE.statuses);

export const MarketDataView = z.object({
  source: z.string(),
  synthetic: z.boolean().openapi({ description: 'true: a seeded random walk, not the market' }),
  note: z.string().optional(),
});

const TradingCostsView = z.object({
  commission_per_share: z.number(),
  commission_per_order: z.number(),
  commission_minimum: z.number(),
  fee_bps: z.number(),
  slippage_bps: z.number(),
  slippage_range_fraction: z.number(),
});

export const SimulationJobSummary = z
  .object({
    job_id: z.string(),
    kind: z.literal('simulation'),
    owner: z.string(),
    status: SimulationStatus,
    models: z.array(z.string()),
    date_range: z
      .tuple([isoDate, isoDate])
      .openapi({ description: 'the first and last trading day, as AI-Trader gives it: `[start, end]`' }),
    total_model_days: z.number().int(),
    market_data: MarketDataView.nullable().openapi({
      description: 'the prices the job was planned on; null for jobs from before it was kept',
    }),
    mode: z.enum(['paper', 'backtest']).openapi({
      description: '`paper`: the models’ continuing ledgers; `backtest`: a fresh portfolio of this run’s own',
    }),
    interval: z.enum(['1d', '1h']).openapi({
      description: '`1d`: a session a day; `1h`: a session per hourly bar, whose dates are `YYYY-MM-DDTHH:MM`',
    }),
    backtest: z
      .object({
        initial_cash: z.number().nullable().openapi({ description: 'null: each model’s configured initial cash' }),
        benchmark: z.string().nullable(),
      })
      .optional(),
    costs: TradingCostsView.nullable().openapi({
      description: 'the run’s trading costs; null: free fills at the open',
    }),
    created_at: nullableTime,
    started_at: nullableTime,
    updated_at: nullableTime,
    completed_at: nullableTime,
    error: z.string().nullable(),
    links: z.object({
      status: z.string(),
      stop: z.string(),
      results: z.string(),
      compare: z.string(),
      tearsheet: z.string(),
      temporal_ui: z.string().optional(),
    }),
  })
  .openapi('SimulationJobSummary');

/** Present while the database cannot write: the job cannot record progress until it can. */
const storageWarning = z
  .string()
  .optional()
  .openapi({ description: 'present while the database cannot write: the job waits until it can' });

export const SimulationJobStatus = SimulationJobSummary.extend({
  storage_warning: storageWarning,
  symbols: z.array(z.string()),
  progress: z.object({
    total_model_days: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    stopped: z.number().int(),
    running: z.number().int(),
    pending: z.number().int(),
    percent: z.number(),
    current: z.object({ date: isoDate, model: z.string().nullable(), models: z.array(z.string()) }).nullable(),
  }),
  details: z.array(
    z.object({
      date: isoDate,
      model: z.string(),
      trading_date: isoDate.openapi({ description: '`date` under AI-Trader v0.5’s name' }),
      model_signature: z.string().openapi({ description: '`model` under AI-Trader v0.5’s name' }),
      status: z.enum(MODEL_DAY_STATUSES),
      started_at: nullableTime,
      completed_at: nullableTime,
      start_time: nullableTime,
      end_time: nullableTime,
      duration_seconds: z.number().nullable(),
      attempts: z.number().int().nullable(),
      error: z.string().nullable(),
      tokens: z.number().int().nullable(),
    }),
  ),
  details_total: z.number().int().openapi({ description: 'model-days the job plans, over every page' }),
  details_next_cursor: z
    .string()
    .nullable()
    .openapi({ description: 'pass as `details_cursor` for the next page of details; null on the last' }),
  total_duration_seconds: z.number().nullable(),
}).openapi('SimulationJobStatus');

const AnalysisFile = z.object({
  path: z.string(),
  kind: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  url: z.string(),
});

export const AnalysisJobStatus = z
  .object({
    storage_warning: storageWarning,
    job_id: z.string(),
    kind: z.literal('analysis'),
    owner: z.string(),
    status: AnalysisStatus,
    ticker: z.string(),
    company: z.string(),
    pipeline: z.string(),
    date: isoDate,
    query: z.string().nullable(),
    llm: z.string(),
    sandbox: z.enum(['process', 'docker']),
    batch_id: z.string().nullable(),
    progress: z.string().nullable().openapi({ description: "the pipeline's current stage" }),
    created_at: nullableTime,
    started_at: nullableTime,
    updated_at: nullableTime,
    completed_at: nullableTime,
    run_time_s: z.number().nullable(),
    error: z.string().nullable(),
    error_type: z.string().nullable(),
    retryable: z.boolean(),
    retry_count: z.number().int(),
    previous_runs: z
      .array(
        z.object({
          run: z.number().int(),
          status: AnalysisStatus,
          error: z.string().nullable(),
          error_type: z.string().nullable(),
          started_at: nullableTime,
          completed_at: nullableTime,
        }),
      )
      .openapi({ description: 'how earlier runs of this job ended, oldest first (each retry adds one)' }),
    attempts: z.number().int(),
    result: z
      .object({
        decision: z.string(),
        rating: z.string(),
        confidence: z.number(),
        last_close: z.number(),
        target_price: z.number().nullable(),
        fair_value: z.number().nullable(),
        summary: z.string(),
      })
      .nullable(),
    usage: z
      .object({
        llm_calls: z.number().int(),
        prompt_tokens: z.number().int(),
        completion_tokens: z.number().int(),
        cost_usd: z.number(),
      })
      .nullable(),
    files: z.array(AnalysisFile),
    links: z.object({
      status: z.string(),
      stream: z.string(),
      logs: z.string(),
      stop: z.string(),
      retry: z.string(),
      result: z.string(),
      all_results: z.string(),
      downloads: z.record(z.string(), z.string()),
      temporal_ui: z.string().optional(),
    }),
  })
  .openapi('AnalysisJobStatus');

export const AnalysisDetailedStatus = AnalysisJobStatus.extend({
  steps: z.array(
    z.object({
      step: z.string(),
      started_at: z.string(),
      finished_at: z.string(),
      duration_ms: z.number(),
    }),
  ),
  exit_code: z.number().int().nullable(),
  first_output_ms: z.number().nullable(),
  files_available: z.record(z.string(), z.boolean()),
}).openapi('AnalysisDetailedStatus');

export const SimulationDetailedStatus = z
  .object({
    job_id: z.string(),
    kind: z.literal('simulation'),
    status: SimulationStatus,
    steps: z.array(z.object({ step: z.string(), at: isoTime })),
    timings: z.object({ queued_seconds: z.number().nullable(), running_seconds: z.number().nullable() }),
    models: z.array(
      z.object({
        model: z.string(),
        days: z.object({
          completed: z.number().int(),
          failed: z.number().int(),
          skipped: z.number().int(),
          stopped: z.number().int(),
        }),
        seconds: z.object({
          total: z.number(),
          mean_per_day: z.number().nullable(),
          per_phase_mean: z.record(z.string(), z.number()),
        }),
        tokens: z.object({
          calls: z.number().int(),
          prompt: z.number().int(),
          completion: z.number().int(),
          total: z.number().int(),
        }),
        cost_usd: z.number().nullable(),
        last_error: z.string().nullable(),
      }),
    ),
    totals: z.object({
      model_days: z.number().int(),
      tokens: z.number().int(),
      llm_calls: z.number().int(),
      cost_usd: z.number().nullable(),
    }),
  })
  .openapi('SimulationDetailedStatus');

/** A job of any kind, in its own shape. */
export const JobStatusBody = z.union([SimulationJobStatus, AnalysisJobStatus]);
export const JobListItem = z.union([SimulationJobSummary, AnalysisJobStatus]);
export const DetailedStatusBody = z.union([SimulationDetailedStatus, AnalysisDetailedStatus]);

export const JobList = z.object({
  jobs: z.array(JobListItem),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const TriggerAccepted = SimulationJobSummary.extend({ message: z.string() });
export const TriggerCurrent = z.object({
  status: z.literal('current'),
  message: z.string(),
  models: z.array(z.string()),
  last_simulation_date: isoDate.nullable(),
  next_trading_day: isoDate,
});

export const StopAccepted = z.object({
  job_id: z.string(),
  kind: z.enum(['simulation', 'analysis']),
  status: z.enum(JOB_STATUSES),
  stop_requested: z.literal(true),
  message: z.string(),
  job: JobListItem,
});

export const RetryAccepted = z.union([
  SimulationJobSummary.extend({ retried_job_id: z.string() }),
  AnalysisJobStatus.extend({ retried_job_id: z.string() }),
  z.object({ status: z.literal('current'), message: z.string(), retried_job_id: z.string() }),
]);

export const RunAccepted = AnalysisJobStatus.extend({ message: z.string() });
export const RunBatchAccepted = z.object({
  batch_id: z.string(),
  total_jobs: z.number().int(),
  job_ids: z.array(z.string()),
  status: z.literal('pending'),
  jobs: z.array(RunAccepted),
});

export const BatchStatus = z.object({
  batch_id: z.string(),
  total_jobs: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
  jobs: z.array(AnalysisJobStatus),
});

export const TradingAgentsAccepted = z.object({
  job_id: z.string(),
  status: AnalysisStatus,
  created_at: isoTime,
  ticker: z.string(),
  date: isoDate,
});

export const TradingAgentsResult = z.object({
  job_id: z.string(),
  ticker: z.string(),
  date: isoDate,
  decision: z.string(),
  final_state: z.object({
    rating: z.string(),
    confidence: z.number(),
    reasons: z.array(z.string()),
    last_close: z.number(),
    target_price: z.number().nullable(),
    fair_value: z.number().nullable(),
    summary: z.string(),
  }),
  reports: z.object({
    market: z.string().nullable(),
    sentiment: z.string().nullable(),
    news: z.string().nullable(),
    fundamentals: z.string().nullable(),
  }),
  usage: z.unknown().nullable(),
});

export const FilesList = z.object({
  job_id: z.string(),
  ticker: z.string(),
  status: AnalysisStatus,
  files: z.array(AnalysisFile),
  downloads: z.record(z.string(), z.string()),
});

export const LogsPage = z.object({
  job_id: z.string(),
  status: z.enum(JOB_STATUSES),
  events: z.array(
    z
      .object({ id: z.number().int(), type: z.string(), timestamp: isoTime })
      .catchall(z.unknown())
      .openapi({ description: 'an event: its id, type, time and the fields of its data' }),
  ),
  next_after: z.number().int(),
  last_event_id: z.number().int(),
});

const Positions = z.record(z.string(), z.number()).openapi({ description: 'shares per symbol, and CASH in dollars' });
const Trade = z.object({
  action: z.string(),
  symbol: z.string(),
  quantity: z.number(),
  price: z.number().openapi({ description: 'the fill price, after slippage' }),
  total: z
    .number()
    .openapi({ description: 'the cash the trade moved: paid for a buy, received for a sell, fees included' }),
  price_before_slippage: z
    .number()
    .optional()
    .openapi({ description: 'runs with trading costs: the open it was asked at' }),
  fee: z.number().optional().openapi({ description: 'runs with trading costs: commission and fees paid, dollars' }),
});

export const TradingDayMinimal = z.object({
  date: isoDate,
  model: z.string(),
  job_id: z.string(),
  positions: Positions,
  trades: z.array(Trade),
  daily_pnl: z.object({ profit: z.number(), return_pct: z.number(), portfolio_value: z.number() }),
  cash: z.number(),
  portfolio_value: z.number(),
  summary: z.string(),
});

export const TradingDayFull = TradingDayMinimal.extend({
  starting_position: z.record(z.string(), z.number()),
  ai_reasoning: z.object({
    total_steps: z.number().int(),
    finished: z.boolean(),
    reasoning_summary: z.string(),
    steps: z.array(z.object({ step: z.number(), role: z.string(), content: z.string() }).catchall(z.unknown())),
    tool_usage: z.record(z.string(), z.number()),
  }),
  token_usage: z.unknown(),
  session_duration_seconds: z.number().nullable(),
});

/** A model's metrics over the range asked (AI-Trader's, then the full set: README, "Risk metrics"). */
export const PeriodMetrics = z
  .object({
    starting_portfolio_value: z.number(),
    ending_portfolio_value: z.number(),
    period_return_pct: z.number(),
    annualized_return_pct: z.number().nullable(),
    max_drawdown_pct: z.number(),
    sharpe_ratio: z.number().nullable(),
    trading_days: z.number(),
    calendar_days: z.number(),
    total_trades: z.number(),
    volatility_pct: z.number().nullable(),
    sortino_ratio: z.number().nullable(),
    calmar_ratio: z.number().nullable(),
    win_rate_pct: z.number().nullable(),
    profit_factor: z.number().nullable(),
    probabilistic_sharpe: z.number().nullable(),
    turnover_pct: z.number().nullable().openapi({
      description:
        'mean daily (dollars bought + dollars sold) / value at the day’s start, %; null for days summarized before it was kept',
    }),
    exposure_pct: z
      .number()
      .nullable()
      .openapi({ description: 'mean of (value − cash) / value at each close, %: how invested the model was' }),
    total_fees: z.number().nullable().openapi({ description: 'commission and fees paid over the range, dollars' }),
    benchmark: z
      .object({
        symbol: z.string(),
        period_return_pct: z
          .number()
          .openapi({ description: "the benchmark's buy-and-hold return over the same days" }),
        alpha: z.number().nullable(),
        beta: z.number().nullable(),
        tracking_error_pct: z.number().nullable(),
        information_ratio: z.number().nullable(),
      })
      .nullable()
      .openapi({
        description: 'against the benchmark (`benchmark=`, QQQ by default); null when it has no price on some day',
      }),
    max_drawdown: z.object({
      depth_pct: z.number(),
      peak_date: isoDate.nullable(),
      trough_date: isoDate.nullable(),
      recovery_date: isoDate.nullable(),
      duration_trading_days: z.number(),
    }),
  })
  .openapi('PeriodMetrics');

const ResultsMarketData = MarketDataView.openapi({
  description: 'the prices this service reads now (each day’s job says what it was planned on, `/jobs/{job_id}`)',
});

export const ResultsBody = z.union([
  z.object({
    date: isoDate,
    detail: z.enum(['minimal', 'full']),
    market_data: ResultsMarketData,
    results: z.array(z.union([TradingDayFull, TradingDayMinimal])),
  }),
  z.object({
    start_date: isoDate.nullable(),
    end_date: isoDate.nullable(),
    detail: z.enum(['minimal', 'full']),
    market_data: ResultsMarketData,
    models: z.array(
      z.object({
        model: z.string(),
        daily_portfolio_values: z.array(
          z.object({
            date: isoDate,
            portfolio_value: z.number(),
            profit: z.number(),
            return_pct: z.number(),
            job_id: z.string().openapi({ description: 'the run that wrote the day' }),
          }),
        ),
        period_metrics: PeriodMetrics.nullable(),
        days: z.array(TradingDayFull).optional(),
      }),
    ),
  }),
]);

export const ModelsBody = z.object({ models: z.array(z.record(z.string(), z.unknown())) });

const Probe = z.object({ status: z.enum(['ok', 'down']), error: z.string().optional() });
export const HealthBody = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  timestamp: isoTime,
  services: z.object({
    temporal: Probe.extend({ address: z.string(), namespace: z.string(), ui: z.string().optional() }),
    mongodb: Probe.extend({
      writable: z
        .boolean()
        .openapi({ description: 'whether a write went through (a read-only store still answers pings)' }),
      cannot_write_since: isoTime.optional(),
    }),
  }),
});
