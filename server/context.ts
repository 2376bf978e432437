import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../config/models.js';
import type { Database } from '../storage/db.js';
import type { JobEvents } from '../storage/jobEvents.js';
import type { JobStore } from '../storage/jobStore.js';
import type { TradingDays } from '../storage/tradingDays.js';
import type { AnalysisService } from './analysisService.js';
import type { JobEventHub } from './eventHub.js';
import type { SimulationService } from './simulationService.js';

export interface AppDeps {
  db: Database;
  jobs: JobStore;
  events: JobEvents;
  eventHub: JobEventHub;
  tradingDays: TradingDays;
  models: ModelRegistry;
  simulations: SimulationService;
  analyses: AnalysisService;
  /** Where analysis runs keep their folders (shared with the workers that run them). */
  dataDir: string;
  temporal: Client;
  temporalAddress: string;
  /** Base URL of the Temporal Web UI, for links to each job's workflow. */
  temporalUiUrl?: string;
  namespace: string;
  logger: Logger;
}

export interface AppEnv {
  Variables: { owner: string };
}

export function workflowUiLink(deps: AppDeps, workflowId: string): string | undefined {
  if (!deps.temporalUiUrl) return undefined;
  return `${deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
