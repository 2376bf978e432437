/**
 * Flags for `temporal server start-dev`, the embedded Temporal. The SQLite file keeps every workflow
 * across restarts; WAL with synchronous=NORMAL lifts its write throughput several-fold.
 */
export function devServerArgs(o: {
  port: number;
  uiPort: number;
  /**
   * The HTTP API's and metrics' ports. Left to the server, it picks free ones itself, and can pick the
   * gRPC port we chose but have not bound yet (seen: `bind: address already in use` at start).
   */
  httpPort?: number;
  metricsPort?: number;
  /** Without a file the dev server keeps everything in memory and loses it on exit. */
  dbFile?: string;
  headless: boolean;
  searchAttributes: ReadonlyArray<{ name: string; type: string }>;
  namespace?: string;
}): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    ...(o.headless ? ['--headless'] : ['--ui-port', String(o.uiPort)]),
    ...(o.httpPort ? ['--http-port', String(o.httpPort)] : []),
    ...(o.metricsPort ? ['--metrics-port', String(o.metricsPort)] : []),
    ...(o.dbFile
      ? ['--db-filename', o.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL']
      : []),
    '--namespace',
    o.namespace ?? 'default',
    '--log-level',
    'warn',
    // One partition per task queue: a single-node server gains nothing from four, and a task that lands in
    // a partition no poller waits on is forwarded first (the bench's per-date dispatch: 21 -> 15 ms).
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    // A simulation's date runs on the workflow's own queue: with this, the server starts it inside the
    // workflow task's completion and hands it to the same worker, one dispatch hop less per date (off by
    // default in server 1.29).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    ...o.searchAttributes.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]),
  ];
}
