import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Bar } from '../../trading/bars.js';
import { addDays, type IsoDate } from '../../trading/calendar.js';
import { BENCHMARK_SYMBOL } from '../../trading/market-data/alphaVantageFiles.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { IsoDateString } from '../schemas.js';

/** How far back each range looks from the last day with data, and the bars it is drawn with. */
export const RANGES = {
  '1D': { days: 1, interval: '1h' },
  '1W': { days: 7, interval: '1h' },
  '1M': { days: 31, interval: '1d' },
  '3M': { days: 92, interval: '1d' },
  '1Y': { days: 366, interval: '1d' },
  ALL: { days: null, interval: '1wk' },
} as const;
type Range = keyof typeof RANGES;
type Interval = '1h' | '1d' | '1wk';

/** The earliest day `ALL` asks a source for. */
const ALL_FROM = '1990-01-01';
/** A custom range longer than this is drawn with weekly bars. */
const DAILY_UP_TO_DAYS = 2 * 366;

const HistoryParams = z.object({
  symbol: z
    .string()
    .regex(/^[A-Za-z0-9.^=-]{1,15}$/, 'a ticker symbol such as AAPL or BRK.B')
    .transform((s) => s.toUpperCase())
    .openapi({ param: { name: 'symbol', in: 'path' }, example: 'AAPL' }),
});

const HistoryQuery = z
  .object({
    range: z
      .enum(Object.keys(RANGES) as [Range, ...Range[]])
      .optional()
      .openapi({ description: 'back from the last day with data; 1M by default' }),
    start: IsoDateString.optional(),
    end: IsoDateString.optional(),
  })
  .strict();

const OhlcvBar = z.object({
  time: z.string().openapi({ description: 'YYYY-MM-DD, or YYYY-MM-DDTHH:MM (New York) for hourly bars' }),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
});

const HistoryBody = z
  .object({
    symbol: z.string(),
    range: z.string().nullable(),
    interval: z.enum(['1h', '1d', '1wk']),
    start: z.string().nullable(),
    end: z.string().nullable(),
    source: z.string(),
    synthetic: z.boolean().openapi({ description: 'true: a seeded random walk, not the market' }),
    bars: z.array(OhlcvBar),
  })
  .openapi('PriceHistory');

const history = createRoute({
  method: 'get',
  path: '/{symbol}/history',
  summary: 'OHLCV history of a symbol over a range (1D, 1W: hourly bars where there are some; ALL: weekly)',
  request: { params: HistoryParams, query: HistoryQuery },
  responses: {
    200: { description: 'the bars, oldest first', content: { 'application/json': { schema: HistoryBody } } },
    ...errorResponses('bad_request', 'validation_error', 'unknown_ticker'),
  },
});

/** Weekly bars from daily ones: each week (Monday on) opens at its first day and closes at its last. */
export function weekly(bars: readonly Bar[]): Bar[] {
  const out: Bar[] = [];
  let week = '';
  for (const b of bars) {
    const d = new Date(`${b.date}T00:00:00Z`);
    const monday = addDays(b.date, -((d.getUTCDay() + 6) % 7));
    const last = out.at(-1);
    if (monday === week && last) {
      last.high = Math.max(last.high, b.high);
      last.low = Math.min(last.low, b.low);
      last.close = b.close;
      last.volume += b.volume;
    } else {
      week = monday;
      out.push({ ...b });
    }
  }
  return out;
}

export type PriceDeps = Pick<AppDeps, 'market' | 'hourly' | 'knownSymbols'>;

export function priceRoutes(deps: PriceDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(history, async (c) => {
    const { symbol } = c.req.valid('param');
    const q = c.req.valid('query');
    if (q.range && (q.start || q.end)) throw new ApiError('bad_request', 'give range, or start/end, not both');
    if (deps.knownSymbols) {
      const known = new Set([...(await deps.knownSymbols()), BENCHMARK_SYMBOL]);
      if (!known.has(symbol)) {
        throw new ApiError('unknown_ticker', `no market data for ${symbol}`, { available: [...known].sort() });
      }
    }
    const latest = await deps.market.latestDate();
    let start: IsoDate;
    let end: IsoDate;
    let interval: Interval;
    const range: Range | null = q.start || q.end ? null : (q.range ?? '1M');
    if (range) {
      const r = RANGES[range];
      end = latest;
      start = r.days === null ? ALL_FROM : addDays(latest, -r.days + 1);
      interval = r.interval;
    } else {
      end = q.end ?? latest;
      start = q.start ?? addDays(end, -30);
      if (start > end) throw new ApiError('validation_error', `end ${end} is before start ${start}`);
      interval = start < addDays(end, -DAILY_UP_TO_DAYS) ? '1wk' : '1d';
    }
    let bars: Bar[] = [];
    let source = deps.market.name;
    if (interval === '1h') {
      const hourly = deps.hourly ? (await deps.hourly.loadHourly([symbol], start, end)).get(symbol) : undefined;
      if (hourly?.length) {
        bars = hourly;
        source = deps.hourly!.name;
      } else interval = '1d';
    }
    if (interval !== '1h') {
      bars = (await deps.market.loadDaily([symbol], start, end)).get(symbol) ?? [];
      if (interval === '1wk') bars = weekly(bars);
    }
    if (bars.length === 0 && range === 'ALL') {
      throw new ApiError('unknown_ticker', `no market data for ${symbol} in ${deps.market.name}`);
    }
    return c.json(
      {
        symbol,
        range,
        interval,
        start: bars[0]?.date ?? null,
        end: bars.at(-1)?.date ?? null,
        source,
        synthetic: source.startsWith('synthetic'),
        bars: bars.map((b) => ({
          time: b.date,
          open: b.open,
          high: b.high,
          low: b.low,
          close: b.close,
          volume: b.volume,
        })),
      },
      200,
    );
  });

  return app;
}
