import { spawn, spawnSync } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { diesWithParent, freePort, stopProcess } from './processes.js';
import { findPostgres, locate, SETPRIV } from './requirements.mjs';

export interface PostgresServer {
  /** postgres://user@host:port/database of a server this process may create schemas (or databases) in. */
  url: string;
  /** How it was found: the URL in TRADEFLOW_TEST_POSTGRES_URL, the server on 127.0.0.1:5432, or one started here. */
  source: 'env' | 'local' | 'started';
  stop(): Promise<void>;
}

export interface EnsurePostgresOptions {
  /** Where a started server keeps its data and log. */
  dir: string;
  env?: NodeJS.ProcessEnv;
  /** The server tried before starting one; `null` skips it (the tests of the start itself). */
  localUrl?: string | null;
  log?: (msg: string) => void;
  timeoutMs?: number;
}

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether `url` accepts a connection and a query, within a few seconds. */
export async function answers(url: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** uid and gid of a local user, from /etc/passwd (the Debian package creates `postgres`). */
function userIds(name: string): { uid: number; gid: number } | undefined {
  if (!existsSync('/etc/passwd')) return undefined;
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * A PostgreSQL server for tests: TRADEFLOW_TEST_POSTGRES_URL if set (it must answer), else the server on
 * 127.0.0.1:5432 if it lets user postgres in without a password, else Debian's PostgreSQL started here
 * (initdb into `dir`, trust auth on loopback, a free port), the way devstack/podman.ts starts Podman.
 * PostgreSQL refuses to run as root, so as root both run as the `postgres` user (setpriv).
 */
export async function ensurePostgres(opts: EnsurePostgresOptions): Promise<PostgresServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const none = async () => {};
  if (env.TRADEFLOW_TEST_POSTGRES_URL) {
    const url = env.TRADEFLOW_TEST_POSTGRES_URL;
    const a = await answers(url);
    if (!a.ok) throw new Error(`TRADEFLOW_TEST_POSTGRES_URL does not answer: ${a.error}`);
    return { url, source: 'env', stop: none };
  }
  const localUrl = opts.localUrl === undefined ? LOCAL_URL : opts.localUrl;
  if (localUrl) {
    const a = await answers(localUrl);
    if (a.ok) return { url: localUrl, source: 'local', stop: none };
    log(`no usable PostgreSQL at ${localUrl} (${a.error}); starting Debian's`);
  }

  const bins = findPostgres(env);
  if (!bins) {
    throw new Error(
      'no PostgreSQL for the Windmill store tests: set TRADEFLOW_TEST_POSTGRES_URL, run one on 127.0.0.1:5432 that lets user postgres in, or install the Debian package postgresql (npm test installs it as root)',
    );
  }
  const asRoot = process.getuid?.() === 0;
  const setpriv = locate(SETPRIV, env)?.path;
  const ids = asRoot ? userIds('postgres') : undefined;
  if (asRoot && (!setpriv || !ids)) {
    throw new Error(
      'PostgreSQL refuses to run as root, and running it as user postgres needs setpriv (util-linux) and that user (the Debian package postgresql creates it)',
    );
  }
  // One setpriv changes the user and then sets the parent-death signal: a change of user clears that signal,
  // so diesWithParent's outer setpriv would not survive it.
  const asPostgres = (command: string, args: string[], dieWithParent = false): [string, string[]] =>
    asRoot
      ? [
          setpriv!,
          [
            '--reuid',
            String(ids!.uid),
            '--regid',
            String(ids!.gid),
            '--clear-groups',
            ...(dieWithParent ? ['--pdeathsig', 'SIGTERM'] : []),
            '--',
            command,
            ...args,
          ],
        ]
      : dieWithParent
        ? diesWithParent(command, args)
        : [command, args];

  // As root the server runs as user postgres, which must reach its folders: a folder of its own in the
  // system's temporary directory (every ancestor traversable), not inside `dir`, whose parents may be 0700.
  mkdirSync(opts.dir, { recursive: true });
  const base = ids ? mkdtempSync(join(tmpdir(), 'tradeflow-postgres-')) : opts.dir;
  const dataDir = join(base, 'pgdata');
  const socketDir = join(base, 'pgsocket');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(socketDir, { recursive: true });
  if (ids) for (const d of [base, dataDir, socketDir]) chownSync(d, ids.uid, ids.gid);
  const removeBase = () => {
    if (base !== opts.dir) rmSync(base, { recursive: true, force: true });
  };
  const [initCmd, initArgs] = asPostgres(bins.initdb, [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--no-sync',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8', env: { ...env, LC_ALL: 'C' } });
  if (init.status !== 0) {
    removeBase();
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${`${init.stdout}\n${init.stderr}`.slice(-2_000)}`);
  }

  const port = await freePort();
  const logFile = join(opts.dir, 'postgres.log');
  const [command, fullArgs] = asPostgres(
    bins.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'fsync=off',
    ],
    true,
  );
  const child = spawn(command, fullArgs, { env: { ...env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(logFile, { flags: 'a' });
  let recent = '';
  const keep = (chunk: Buffer) => {
    recent = (recent + chunk.toString('utf8')).slice(-4_000);
    file.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  child.once('close', () => file.end());

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  log(`starting PostgreSQL (${bins.postgres}) on ${port}; log ${logFile}`);
  for (;;) {
    if (exited) {
      removeBase();
      throw new Error(`postgres ${exited} before answering on ${port}:\n${recent || '(no output)'}`);
    }
    if ((await answers(url)).ok) break;
    if (Date.now() > deadline) {
      await stopProcess(child, 2_000);
      removeBase();
      throw new Error(`postgres did not answer on ${port} within ${timeoutMs} ms:\n${recent || '(no output)'}`);
    }
    await sleep(200);
  }
  return {
    url,
    source: 'started',
    stop: async () => {
      await stopProcess(child);
      removeBase();
    },
  };
}

/** A schema of its own in the server's database, dropped with everything in it by `drop()`. */
export async function freshSchema(
  url: string,
  prefix = 'tradeflow_test',
): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  return {
    schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
