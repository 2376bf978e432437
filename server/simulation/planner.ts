import { totalModelDays } from '../../jobs/simulationPlan.js';
import type { IsoDate } from '../../trading/calendar.js';
import { nextTradingDay, tradingDaysBetween } from '../../trading/calendar.js';
import { ApiError } from '../http/errors.js';

export interface PlanRequest {
  models: string[];
  /** Explicit start; null/undefined means each model continues after its last simulated day. */
  start?: IsoDate | null;
  end: IsoDate;
  /** Last day any model has simulated, per model. */
  lastSimulated: Record<string, IsoDate | undefined>;
  maxTradingDays: number;
}

export interface Plan {
  dates: IsoDate[];
  modelStart: Record<string, number>;
  totalModelDays: number;
  /** Models with nothing left to run. */
  upToDate: string[];
}

/**
 * Decides which model-days a trigger runs. A model's ledger only grows forward: days it already has are
 * never rerun, so a repeated or resumed trigger only adds the missing tail. With no start date a model
 * continues from the day after its last simulated day; a model with no history starts at the end date
 * (one day), as AI-Trader does.
 */
export function planSimulation(req: PlanRequest): Plan {
  if (req.start && req.start > req.end) {
    throw new ApiError('validation_error', `end_date ${req.end} is before start_date ${req.start}`);
  }
  const starts: Record<string, IsoDate> = {};
  const upToDate: string[] = [];
  for (const model of req.models) {
    const last = req.lastSimulated[model];
    let start = req.start ?? (last ? nextTradingDay(last) : req.end);
    if (last && last >= start) start = nextTradingDay(last);
    if (start > req.end) upToDate.push(model);
    else starts[model] = start;
  }
  const firstStart = Object.values(starts).sort()[0];
  if (!firstStart) return { dates: [], modelStart: {}, totalModelDays: 0, upToDate };
  const dates = tradingDaysBetween(firstStart, req.end);
  if (dates.length === 0) {
    throw new ApiError('validation_error', `no NYSE trading day between ${firstStart} and ${req.end}`);
  }
  if (dates.length > req.maxTradingDays) {
    throw new ApiError(
      'validation_error',
      `the range ${firstStart}..${req.end} has ${dates.length} trading days; the maximum is ${req.maxTradingDays} (MAX_SIMULATION_DAYS)`,
    );
  }
  const modelStart: Record<string, number> = {};
  for (const [model, start] of Object.entries(starts)) {
    const i = dates.findIndex((d) => d >= start);
    if (i === -1) upToDate.push(model);
    else modelStart[model] = i;
  }
  const plan = { dates, modelStart };
  return { ...plan, totalModelDays: totalModelDays(plan, Object.keys(modelStart)), upToDate };
}
