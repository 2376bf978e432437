import { loadTriggerConfig } from './aiTraderConfig.js';
import { ApiError } from './errors.js';
import type { ResolvedTrigger, TriggerSimulationBody } from './schemas.js';

/**
 * Settles every request shape of AI-Trader's trigger into one: `date_range` (`[start, end]` or `[date]`)
 * or `start_date`/`end_date`, and an AI-Trader config (`config_path`) whose enabled models, date range
 * and initial cash apply where the request names none of its own.
 */
export async function resolveTrigger(body: TriggerSimulationBody, configDir: string): Promise<ResolvedTrigger> {
  if (body.replace_existing === true) {
    throw new ApiError(
      'validation_error',
      'replace_existing: true is not supported yet: days a model already has are kept and not run again (replace_existing: false, the default)',
      { field: 'replace_existing' },
    );
  }
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
  return {
    ...(start !== undefined ? { start_date: start } : {}),
    ...(end !== undefined ? { end_date: end } : {}),
    ...(models ? { models } : {}),
    ...(body.symbols ? { symbols: body.symbols } : {}),
    ...(config?.initialCash !== undefined ? { initial_cash: config.initialCash } : {}),
  };
}
