// Reads on the request path stay lookups by index however much history the database holds. FerretDB v1
// turns a query into SQL and SQLite runs it; a query it cannot answer from an index scans the whole
// table, which at 20,000 documents made a page of 500 log events take 29 s. Every query the status page,
// a log page and a year of results send is captured here, over 50,000 other documents in each collection
// they read, and explained: each must be answered by an index search, never a table scan.
import type { Connection } from '@temporalio/client';
import type { CommandStartedEvent, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { parseModelsConfig } from '../config/models.js';
import { createMarketSource } from '../config/services.js';
import { wireApp } from '../server/wire.js';
import { connectDatabase, type Database } from '../storage/db.js';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';

const FILLER = 50_000;

let h: Harness;
let watched: Database;
let jobId: string;
const commands: CommandStartedEvent[] = [];

beforeAll(async () => {
  h = await startHarness({ models: STRATEGY_MODELS });
  const res = await h.api('/simulate/trigger', {
    method: 'POST',
    json: { start_date: '2025-01-02', end_date: '2025-03-31', models: ['buy-and-hold', 'momentum'] },
  });
  expect(res.status).toBe(202);
  jobId = res.body.job_id;
  expect((await h.waitForJob(jobId, undefined, 120_000)).status).toBe('completed');
  await fill(h.db);
  // A second API instance on the same database, whose every command is recorded.
  watched = await connectDatabase(inject('mongoUri'), h.settings.mongo.db, { monitorCommands: true });
  watched.client.on('commandStarted', (e) => commands.push(e));
}, 300_000);

afterAll(async () => {
  await watched?.close();
  await h?.stop();
});

/** Other jobs' history, shaped like ours, in every collection the request path reads by key. */
async function fill(db: Database) {
  const c = db.collections;
  const batches = Array.from({ length: FILLER / 1000 }, (_, b) => Array.from({ length: 1000 }, (_, i) => b * 1000 + i));
  for (const batch of batches) {
    await c.jobEvents.insertMany(
      batch.map((n) => ({
        _id: `sim-filler-${n % 97}|${String(n).padStart(10, '0')}`,
        jobId: `sim-filler-${n % 97}`,
        seq: n,
        type: 'log' as const,
        data: { type: 'LOG', message: `filler ${n}` },
        at: new Date(),
      })),
    );
    await c.modelDays.insertMany(
      batch.map((n) => ({
        _id: `sim-filler-${n % 97}|${String(n).padStart(6, '0')}|m`,
        jobId: `sim-filler-${n % 97}`,
        model: 'm',
        date: String(n),
        status: 'completed',
      })) as never,
    );
    await c.ledgerMonths.insertMany(batch.map((n) => ({ _id: `filler|m${n}|2025-01`, days: [] })) as never);
  }
}

async function request(path: string) {
  const { app } = wireApp({
    settings: h.settings,
    db: watched,
    // The harness's client is on a real Connection.
    connection: h.temporal.connection as Connection,
    temporalAddress: h.env.TEMPORAL_ADDRESS!,
    models: parseModelsConfig(STRATEGY_MODELS),
    market: createMarketSource(h.settings.marketData),
    logger: createLogger('silent'),
  });
  commands.length = 0;
  const started = performance.now();
  // With the admin's key: authenticating reads by `_id` too, and is checked here with the rest.
  const res = await app.request(path, { headers: h.authHeaders });
  const ms = performance.now() - started;
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return { ms, reads: commands.filter((e) => e.commandName === 'find') };
}

/** SQLite's plan of a captured find, as FerretDB explains it: one line per step. */
async function plan(e: CommandStartedEvent): Promise<string> {
  const find = Object.fromEntries(
    ['find', 'filter', 'sort', 'limit', 'projection'].flatMap((k) => (e.command[k] == null ? [] : [[k, e.command[k]]])),
  );
  const explained: Document = await watched.db.command({ explain: find });
  return JSON.stringify(explained.queryPlanner);
}

describe(`reads on the request path, with ${FILLER.toLocaleString('en')} other documents in each collection`, () => {
  it.each([
    ['a status page', () => `/simulate/status/${jobId}`],
    ['a page of log events', () => `/jobs/${jobId}/logs?limit=500`],
    ['a year of results', () => '/results?start_date=2025-01-01&end_date=2025-12-31&model=buy-and-hold,momentum'],
  ])('%s reads by index only', async (_name, path) => {
    await request(path()); // the first request also loads what is cached per process
    const { ms, reads } = await request(path());
    console.log(`${path()}: ${reads.length} reads, ${ms.toFixed(1)} ms`);
    expect(reads.length).toBeGreaterThan(0);
    const plans = await Promise.all(reads.map(plan));
    const scans = reads
      .map((e, i) => [e.command.find, e.command.filter, plans[i]])
      .filter(([, , p]) => !/SEARCH .* USING INDEX/.test(String(p)));
    expect(scans).toEqual([]);
  });
});
