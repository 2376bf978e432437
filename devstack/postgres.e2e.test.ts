// ensurePostgres's last resort, forced: Debian's PostgreSQL started in a temporary folder (as a machine
// with nothing on 127.0.0.1:5432 gets it), used, and stopped; and a TRADEFLOW_TEST_POSTGRES_URL that
// does not answer is an error, not a silent fallback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { answers, ensurePostgres, freshSchema } from './postgres.js';
import { freePort } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'tradeflow-pg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { TRADEFLOW_TEST_POSTGRES_URL: _ignored, ...envWithoutUrl } = process.env;

describe('ensurePostgres', () => {
  it('starts Debian’s PostgreSQL when no server is given or found, and stops it', async () => {
    const server = await ensurePostgres({ dir: join(dir, 'started'), env: envWithoutUrl, localUrl: null });
    try {
      expect(server.source).toBe('started');
      expect(server.url).not.toContain(':5432/');
      const schema = await freshSchema(server.url, 'ensure_test');
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      await c.query(`CREATE TABLE "${schema.schema}".t (x int PRIMARY KEY)`);
      await c.query(`INSERT INTO "${schema.schema}".t VALUES (1) ON CONFLICT DO NOTHING`);
      expect((await c.query(`SELECT count(*)::int AS n FROM "${schema.schema}".t`)).rows[0].n).toBe(1);
      await c.end();
      await schema.drop();
    } finally {
      await server.stop();
    }
    expect((await answers(server.url)).ok).toBe(false);
  }, 180_000);

  it('refuses a TRADEFLOW_TEST_POSTGRES_URL that does not answer', async () => {
    const port = await freePort();
    await expect(
      ensurePostgres({
        dir: join(dir, 'env'),
        env: { ...envWithoutUrl, TRADEFLOW_TEST_POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/postgres` },
      }),
    ).rejects.toThrow(/TRADEFLOW_TEST_POSTGRES_URL does not answer/);
  });
});
