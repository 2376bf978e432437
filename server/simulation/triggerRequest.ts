import type { TradingCosts } from '../../trading/costs.js';
import { BENCHMARK_SYMBOL } from '../../trading/market-data/alphaVantageFiles.js';
import { ApiError } from '../http/errors.js';
import type { ResolvedTrigger, TradingCostsBody, TriggerSimulationBody } from '../schemas.js';
import { loadTriggerConfig } from './aiTraderConfig.js';

/**
 * Settles every request shape of AI-Trader's trigger into one: `date_range` (`[start, end]` or `[date]`)
 * or `start_date`/`end_date`, and an AI-Trader config (`config_path`) whose enabled models, date range
 * and initial cash apply where the request names none of its own.
 */
export async function resolveTrigger(body: TriggerSimulationBody, configDir: string): Promise<ResolvedTrigger> {
  let start = body.start_date;
  let end = body.end_date;
  if (body.date_range) {
    if (body.start_date !== undefined || body.end_date !== undefined) {
      throw new ApiError('bad_request', 'give date_range or start_date/end_date, not both');
    }
    const [first, last = first] = body.date_range;
    if (first! > last!) throw new ApiError('validation_error', `date_range starts (${first}) after it ends (${last})`);
    start = first!;
    end = last!;
  }
  const config = body.config_path ? await loadTriggerConfig(configDir, body.config_path) : undefined;
  if (config && start === undefined && end === undefined) {
    if (config.start) start = config.start;
    if (config.end) end = config.end;
  }
  const models = body.models ?? config?.models;
  const mode = body.mode ?? 'paper';
  if (mode === 'backtest') {
    if (!start) {
      throw new ApiError('validation_error', 'a backtest runs over a period: give start_date (or date_range)', {
        field: 'start_date',
      });
    }
    if (body.replace_existing !== undefined) {
      throw new ApiError('bad_request', 'replace_existing is for paper ledgers: a backtest always starts fresh', {
        field: 'replace_existing',
      });
    }
  } else if (body.interval === '1h') {
    throw new ApiError('bad_request', 'interval 1h is for backtests: add "mode": "backtest"', { field: 'interval' });
  } else if (body.benchmark !== undefined) {
    throw new ApiError('bad_request', 'benchmark is a backtest setting: ask /results?benchmark= for a paper ledger', {
      field: 'benchmark',
    });
  }
  const initialCash = body.initial_cash ?? config?.initialCash;
  if (body.replace_existing === true && !start) {
    throw new ApiError(
      'validation_error',
      'replace_existing: true needs the date to run again from: start_date, date_range or a config’s date_range',
      { field: 'replace_existing' },
    );
  }
  return {
    ...(body.replace_existing === true ? { replace: true } : {}),
    ...(start !== undefined ? { start_date: start } : {}),
    ...(end !== undefined ? { end_date: end } : {}),
    ...(models ? { models } : {}),
    ...(body.symbols ? { symbols: body.symbols } : {}),
    ...(initialCash !== undefined ? { initial_cash: initialCash } : {}),
    mode,
    ...(mode === 'backtest'
      ? { benchmark: body.benchmark === 'none' ? null : (body.benchmark ?? BENCHMARK_SYMBOL).toUpperCase() }
      : {}),
    ...(body.costs ? { costs: costsOf(body.costs) } : {}),
    ...(body.interval === '1h' ? { hourly: true } : {}),
  };
}

function costsOf(c: TradingCostsBody): TradingCosts {
  return {
    commissionPerShare: c.commission_per_share,
    commissionPerOrder: c.commission_per_order,
    commissionMinimum: c.commission_minimum,
    feeBps: c.fee_bps,
    slippageBps: c.slippage_bps,
    slippageRangeFraction: c.slippage_range_fraction,
  };
}
