import { z } from 'zod';
import { JOB_STATUSES } from '../storage/types.js';
import { isIsoDate } from '../trading/calendar.js';

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
    kind: z.enum(['simulation']).optional(),
    status: z.enum(JOB_STATUSES).optional(),
    model: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
