import { ApiError } from '../http/errors.js';
import type { ResolvedTrigger, TriggerSimulationBody } from '../schemas.js';
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
    ...(config?.initialCash !== undefined ? { initial_cash: config.initialCash } : {}),
  };
}
