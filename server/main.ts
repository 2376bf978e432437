// The HTTP server process: `node --import tsx server/main.ts` with TEMPORAL_ADDRESS and MONGODB_URI set (npm start sets them).
import { createLogger } from '../config/logger.js';
import { loadModelsConfig } from '../config/models.js';
import { connectTemporalClient, createMarketSource, resolveMarketData } from '../config/services.js';
import { loadSettings } from '../config/settings.js';
import { connectDatabase } from '../storage/db.js';
import { announceAccess, bootstrapAdmin } from './auth/announce.js';
import { listen } from './listen.js';
import { closeRealtimeHubs } from './realtime/hubs.js';
import { wireApp } from './wire.js';

const settings = loadSettings();
const logger = createLogger(settings.logLevel, 'tradeflow-server');
const address = settings.temporal.address;
if (!address || !settings.mongo.uri) {
  logger.fatal('TEMPORAL_ADDRESS and MONGODB_URI must be set (npm start sets them for the embedded services)');
  process.exit(2);
}

// A request waits at most about a second for an unreachable database, then answers 503.
const db = await connectDatabase(settings.mongo.uri, settings.mongo.db, { serverSelectionTimeoutMs: 1_000 });
const connection = await connectTemporalClient(settings.temporal, address);
announceAccess(settings, await bootstrapAdmin(db, settings, logger), logger);
// `auto` is decided here once (npm start decides it for both processes and passes the answer down).
const marketData = await resolveMarketData(settings.marketData);
const { app, deps } = wireApp({
  settings: { ...settings, marketData },
  db,
  connection,
  temporalAddress: address,
  ...(settings.temporal.uiUrl ? { temporalUiUrl: settings.temporal.uiUrl } : {}),
  models: await loadModelsConfig(settings.modelsPath),
  market: createMarketSource(marketData),
  logger,
});
// A database that stops taking writes is logged even while nobody asks /health or a job's status.
const stopWatching = deps.storeHealth.watch(10_000);

const { server, closeSockets } = listen(app.fetch, settings.port, settings.host, (port) => {
  logger.info(`tradeflow API listening on http://${settings.host}:${port}`);
});

function shutdown(signal: string) {
  logger.info({ signal }, 'server shutting down');
  stopWatching();
  if (deps.realtime) closeRealtimeHubs(deps.realtime);
  // WebSocket clients reconnect (to another instance, or after the restart): 1001 says the server went away.
  closeSockets();
  server.close(async () => {
    await connection.close();
    await db.close();
    process.exit(0);
  });
  // Live streams never go idle: after a moment for requests in flight, they are cut (clients resume with
  // Last-Event-ID on another instance or after the restart).
  setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), 1000).unref();
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
