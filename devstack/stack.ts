import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { devServerArgs } from '../temporal-config/dev-server.js';
import { SEARCH_ATTRIBUTES } from '../temporal-config/search-attributes.js';
import { freePort, type ManagedProcess, type StartServiceOptions, startService } from './processes.js';

export interface LocalStackOptions {
  /** Where the SQLite files and logs live; a restart on the same folder keeps every job. */
  dataDir: string;
  temporalBin?: string;
  ferretdbBin?: string;
  /** External services: when set, nothing local is started for them. */
  temporalAddress?: string;
  mongoUri?: string;
  /** Fixed ports for `npm start`; tests pass nothing and get free ones. */
  temporalPort?: number;
  temporalUiPort?: number;
  mongoPort?: number;
  headless?: boolean;
  /**
   * FerretDB's backend: SQLite files in `dataDir` (default, self-contained) or a PostgreSQL database
   * (about 1.5x faster under parallel model-days; the database must exist).
   */
  ferretdbPostgresUrl?: string;
  /** Temporal keeps its state in memory only (benchmark comparisons); the default persists to SQLite. */
  temporalInMemory?: boolean;
  /** How each service is started (`npm start` supervises them); by default once. */
  starter?: (o: StartServiceOptions) => Promise<ManagedProcess>;
}

export interface LocalStack {
  temporalAddress: string;
  temporalUiUrl?: string;
  mongoUri: string;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

/** The binaries `scripts/bootstrap.mjs` built, as it passes them to every npm command. */
export function binariesFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<LocalStackOptions, 'temporalBin' | 'ferretdbBin'> {
  return {
    ...(env.TRADEFLOW_TEMPORAL_BIN ? { temporalBin: env.TRADEFLOW_TEMPORAL_BIN } : {}),
    ...(env.TRADEFLOW_FERRETDB_BIN ? { ferretdbBin: env.TRADEFLOW_FERRETDB_BIN } : {}),
  };
}

function requireBin(path: string | undefined, name: string, envVar: string): string {
  if (!path) throw new Error(`${name} binary unknown: run through npm (which sets ${envVar}) or set ${envVar}`);
  return path;
}

/** FerretDB's flags: SQLite files in `dir`, or a PostgreSQL database. */
export function ferretdbArgs(o: { port: number; dir: string; postgresUrl?: string }): string[] {
  return [
    '--listen-addr',
    `127.0.0.1:${o.port}`,
    ...(o.postgresUrl
      ? ['--handler', 'postgresql', '--postgresql-url', o.postgresUrl]
      : // WAL with synchronous=NORMAL: a crash of tradeflow loses nothing, parallel writes run ~4x faster.
        ['--handler', 'sqlite', '--sqlite-url', `file:${o.dir}/?_pragma=synchronous(normal)`]),
    '--log-level',
    'error',
  ];
}

/** Starts the embedded Temporal dev server (with its Web UI) and FerretDB, unless external ones are given. */
export async function startLocalStack(o: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(o.dataDir, { recursive: true });
  const processes: ManagedProcess[] = [];
  const start = o.starter ?? startService;
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    let temporalAddress = o.temporalAddress;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      const port = o.temporalPort ?? (await freePort());
      const uiPort = o.temporalUiPort ?? (await freePort());
      const [httpPort, metricsPort] = [await freePort(), await freePort()];
      processes.push(
        await start({
          name: 'temporal',
          command: requireBin(o.temporalBin, 'Temporal CLI', 'TRADEFLOW_TEMPORAL_BIN'),
          args: devServerArgs({
            port,
            uiPort,
            httpPort,
            metricsPort,
            ...(o.temporalInMemory ? {} : { dbFile: join(o.dataDir, 'temporal.sqlite') }),
            headless: o.headless ?? false,
            searchAttributes: SEARCH_ATTRIBUTES,
          }),
          port,
          logFile: join(o.dataDir, 'logs', 'temporal.log'),
        }),
      );
      temporalAddress = `127.0.0.1:${port}`;
      if (!o.headless) temporalUiUrl = `http://127.0.0.1:${uiPort}`;
    }
    let mongoUri = o.mongoUri;
    if (!mongoUri) {
      const port = o.mongoPort ?? (await freePort());
      const dir = join(o.dataDir, 'ferretdb');
      mkdirSync(dir, { recursive: true });
      processes.push(
        await start({
          name: 'ferretdb',
          command: requireBin(o.ferretdbBin, 'FerretDB', 'TRADEFLOW_FERRETDB_BIN'),
          args: ferretdbArgs({ port, dir, ...(o.ferretdbPostgresUrl ? { postgresUrl: o.ferretdbPostgresUrl } : {}) }),
          port,
          logFile: join(o.dataDir, 'logs', 'ferretdb.log'),
        }),
      );
      mongoUri = `mongodb://127.0.0.1:${port}/`;
    }
    return { temporalAddress, ...(temporalUiUrl ? { temporalUiUrl } : {}), mongoUri, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
