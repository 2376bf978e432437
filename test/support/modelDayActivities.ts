import pino from 'pino';
import { createSimulationActivities } from '../../activities/simulation/activities.js';
import { parseModelsConfig } from '../../config/models.js';
import type { BarCache } from '../../storage/barCache.js';
import type { AgentFactory } from '../../trading/agents/factory.js';
import type { BarSeries } from '../../trading/bars.js';

/**
 * The simulation activities for computing model-days alone: `bars` is the market, `agents` the models'
 * agents, and every store is a stub (a computed day writes nothing; the commit writes it).
 */
export function modelDayActivities(o: {
  bars: BarSeries;
  /** A models config, as a models file holds it. */
  models: unknown;
  agents: (spec: { id: string }) => { run: () => Promise<unknown> };
}) {
  // Stores a model-day never reaches.
  return createSimulationActivities({
    jobs: { setModelDay: async () => undefined } as any,
    locks: {} as any,
    tradingDays: {} as any,
    ledgers: {} as any,
    events: { append: async () => undefined } as any,
    bars: { load: async () => o.bars } as unknown as BarCache,
    models: parseModelsConfig(o.models),
    agents: o.agents as unknown as AgentFactory,
    logger: pino({ level: 'silent' }),
  });
}
