// `npm start`: the embedded Temporal dev server (with Web UI), FerretDB, the worker and the HTTP API.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../config/logger.js';
import { resolveMarketData } from '../config/services.js';
import { loadSettings } from '../config/settings.js';
import { type DockerApi, ensureDockerApi } from '../devstack/podman.js';
import { canConnect, diesWithParent, type ManagedProcess, startService, stopProcess } from '../devstack/processes.js';
import { binariesFromEnv, startLocalStack } from '../devstack/stack.js';
import { supervise } from '../devstack/supervisor.js';
import { bootstrapAdmin } from '../server/auth/announce.js';
import { connectDatabase } from '../storage/db.js';
import { DEFAULT_SCHEDULES, ensureDefaultSchedules } from '../temporal-config/schedules.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--import tsx` keeps each service one process, so signals (and a SIGKILL) reach the service itself.
const tsx = ['--import', 'tsx'];
const settings = loadSettings();
const env = process.env;
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
const log = (message: string) => console.log(`[supervisor] ${message}`);

const wanted = [
  ...(env.TEMPORAL_ADDRESS
    ? []
    : [
        ['TRADEFLOW_TEMPORAL_PORT', port('TRADEFLOW_TEMPORAL_PORT', 7233)],
        ['TRADEFLOW_TEMPORAL_UI_PORT', port('TRADEFLOW_TEMPORAL_UI_PORT', 8233)],
      ]),
  ...(env.MONGODB_URI ? [] : [['TRADEFLOW_MONGO_PORT', port('TRADEFLOW_MONGO_PORT', 27017)]]),
  ['PORT', settings.port],
] as Array<[string, number]>;
for (const [name, p] of wanted) {
  if (await canConnect(p)) {
    console.error(`port ${p} is already in use (is tradeflow already running?); choose another with ${name}=...`);
    process.exit(1);
  }
}

console.log('starting tradeflow…');
// Yahoo or the walk is decided once, here, while the services start: the worker and the API are told
// the answer, so they read the same market and nobody asks Yahoo again.
const marketDataDecided = resolveMarketData(settings.marketData);
/** Set at Ctrl-C: services that exit from then on (the terminal signals them too) are not started again. */
let stopping = false;
const stack = await startLocalStack({
  dataDir: settings.dataDir,
  ...binariesFromEnv(),
  ...(settings.temporal.address ? { temporalAddress: settings.temporal.address } : {}),
  ...(settings.mongo.uri ? { mongoUri: settings.mongo.uri } : {}),
  temporalPort: port('TRADEFLOW_TEMPORAL_PORT', 7233),
  temporalUiPort: port('TRADEFLOW_TEMPORAL_UI_PORT', 8233),
  mongoPort: port('TRADEFLOW_MONGO_PORT', 27017),
  // The embedded FerretDB on an existing PostgreSQL database instead of SQLite files (README, Benchmark).
  ...(env.TRADEFLOW_FERRETDB_POSTGRES_URL ? { ferretdbPostgresUrl: env.TRADEFLOW_FERRETDB_POSTGRES_URL } : {}),
  // A service that dies (killed, out of memory) is started again, with backoff; jobs ride out the gap.
  starter: (o) => supervise(o.name, () => startService(o), { log, shuttingDown: () => stopping }),
});
// Collections are created here, once, before two processes could race to create them; so is the admin.
const db = await connectDatabase(stack.mongoUri, settings.mongo.db);
const admin = await bootstrapAdmin(db, settings, createLogger('silent'));
await db.close();

// Docker sandbox mode needs an engine API: DOCKER_HOST, a Docker daemon, or a Podman service started here.
let dockerApi: DockerApi | undefined;
if (settings.sandbox.mode === 'docker' && !settings.sandbox.dockerHost) {
  dockerApi = await ensureDockerApi({ dir: `${settings.dataDir}/podman`, log: (m) => console.log(m) });
}

// Where this machine reaches the API (the scheduled simulation catch-up posts its trigger there).
const apiHost = ['0.0.0.0', '::', ''].includes(settings.host) ? '127.0.0.1' : settings.host;
const apiUrl = env.TRADEFLOW_API_URL ?? `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${settings.port}`;
const marketData = await marketDataDecided;
const childEnv = {
  ...env,
  MARKET_DATA_SOURCE: marketData.source,
  TRADEFLOW_API_URL: apiUrl,
  ...(dockerApi ? { DOCKER_HOST: `unix://${dockerApi.socketPath}` } : {}),
  TEMPORAL_ADDRESS: stack.temporalAddress,
  MONGODB_URI: stack.mongoUri,
  ...(stack.temporalUiUrl ? { TEMPORAL_UI_URL: stack.temporalUiUrl } : {}),
};

/** The worker has no port to wait for: it is started, and its own log says when it polls. */
async function startWorker(): Promise<ManagedProcess> {
  const child = spawn(...diesWithParent(process.execPath, [...tsx, 'worker/main.ts']), {
    cwd: root,
    env: childEnv,
    stdio: 'inherit',
  });
  return { name: 'worker', child, logFile: '(standard output)', stop: () => stopProcess(child, 15_000) };
}

let worker: ManagedProcess | undefined;
let server: ManagedProcess | undefined;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('stopping tradeflow…');
  await server?.stop();
  await worker?.stop();
  await dockerApi?.stop();
  await stack.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  worker = await supervise('worker', startWorker, { log, shuttingDown: () => stopping });
  server = await supervise(
    'api',
    async () => {
      const api = await startService({
        name: 'api',
        command: process.execPath,
        args: [...tsx, 'server/main.ts'],
        port: settings.port,
        logFile: `${settings.dataDir}/logs/api.log`,
        env: childEnv,
      });
      api.child.stdout?.pipe(process.stdout);
      return api;
    },
    { log, shuttingDown: () => stopping },
  );
} catch (err) {
  console.error((err as Error).message);
  await shutdown(1);
}

if (stopping) await new Promise(() => {});
const auth = `-H "Authorization: Bearer $(cat ${admin.file})"`;
// The two default Temporal Schedules, paused, made as the admin; one that exists already is left as it is.
const adminKey = admin.created ? admin.key : admin.fileExists ? readFileSync(admin.file, 'utf8').trim() : undefined;
const schedules = await ensureDefaultSchedules(apiUrl, DEFAULT_SCHEDULES, adminKey).catch((err: Error) => [
  { scheduleId: 'default schedules', outcome: `not created: ${err.message}` },
]);
const workersReady = adminKey ? await waitForWorkers(apiUrl, adminKey) : 'unknown';
// Shown on this terminal once, when it is created (never in a log file); it stays in the file, mode 0600.
const keyLines = admin.created
  ? `
  admin API key  ${admin.key}
                 (shown this once; kept in ${admin.file}, readable by you only)`
  : `  API key        ${admin.fileExists ? admin.file : '(the first-run key file is gone: an admin creates keys with POST /admin/users/{id}/api-keys)'}`;
// One write: whoever waits for "tradeflow is running" (a script, the start test) has the key's line with it.
console.log(`
tradeflow is running
  API            http://${settings.host}:${settings.port}   (try: curl ${auth} -X POST localhost:${settings.port}/simulate/trigger)
  Temporal       ${stack.temporalAddress}   namespace ${settings.temporal.namespace}
  Temporal UI    ${stack.temporalUiUrl ?? '(external Temporal: use its own UI)'}
  MongoDB        ${stack.mongoUri}
  market data    ${describeMarketData(marketData)}
  data and logs  ${settings.dataDir}
  schedules      ${schedules.map((s) => `${s.scheduleId} (${s.outcome === 'exists' ? 'exists, left as is' : s.outcome === 'created' ? 'created, paused' : s.outcome})`).join('\n                 ')}
                 resume one: curl ${auth} -X POST ${apiUrl}/schedules/<id>/resume
Ctrl-C stops everything; jobs survive a restart.${workersReady === 'late' ? '\n  (the worker has not polled yet: jobs wait for it; GET /health/details says when it does)' : ''}
${keyLines}`);
if (!settings.auth.enabled) {
  console.log(
    '\n  !!! AUTHENTICATION IS OFF (TRADEFLOW_AUTH=off): anything on this machine can use the API as the admin',
  );
}

/** The banner's market-data line: real or not, and when the default fell back, why. */
function describeMarketData(m: typeof marketData): string {
  switch (m.source) {
    case 'yahoo':
      return `yahoo: real prices from Yahoo Finance, ${m.symbols.length} symbols${env.MARKET_SYMBOLS ? '' : ' (the NASDAQ-100)'}`;
    case 'files':
      return `files: ${m.files.length === 1 ? m.files[0] : `${m.files.length} files`} (MARKET_DATA_FILES)`;
    case 'synthetic':
      return m.fallback
        ? `synthetic: offline (${m.fallback}), a seeded random walk, not the market (MARKET_DATA_FILES=a.jsonl,… for real prices offline)`
        : 'synthetic: a seeded random walk, not the market (MARKET_DATA_SOURCE=yahoo or files for real prices)';
  }
}

/**
 * Waits for the worker's first poll of the orchestrator and simulation queues, as /health/details sees
 * it, so "running" means jobs run; after two minutes the banner goes out anyway and says so.
 */
async function waitForWorkers(api: string, key: string): Promise<'ready' | 'late'> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`${api}/health/details`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { components?: Record<string, { state: string }> };
      const c = body.components ?? {};
      if (c.workers_orchestrator?.state === 'ok' && c.workers_simulation?.state === 'ok') return 'ready';
    } catch {
      // The API answers a moment later.
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return 'late';
}
