import type { Logger } from 'pino';
import { createSimulationActivities, type SimulationActivities } from '../activities/simulation.js';
import type { ModelRegistry } from '../config/models.js';
import type { BarCache } from '../storage/barCache.js';
import type { Database } from '../storage/db.js';
import { JobEvents } from '../storage/jobEvents.js';
import { JobStore } from '../storage/jobStore.js';
import { ModelLedgers } from '../storage/modelLedgers.js';
import { ModelLocks } from '../storage/modelLocks.js';
import { TradingDays } from '../storage/tradingDays.js';
import type { AgentFactory } from '../trading/agents/factory.js';

export function buildActivities(deps: {
  db: Database;
  bars: BarCache;
  models: ModelRegistry;
  agents: AgentFactory;
  logger: Logger;
}): SimulationActivities {
  const c = deps.db.collections;
  return createSimulationActivities({
    jobs: new JobStore(c),
    locks: new ModelLocks(c),
    tradingDays: new TradingDays(c),
    ledgers: new ModelLedgers(c),
    events: new JobEvents(c),
    bars: deps.bars,
    models: deps.models,
    agents: deps.agents,
    logger: deps.logger,
  });
}
