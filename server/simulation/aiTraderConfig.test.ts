import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.js';
import { loadTriggerConfig } from './aiTraderConfig.js';

const SHIPPED = join(import.meta.dirname, '..', '..', 'ai-trader');

function configFolder() {
  const root = mkdtempSync(join(tmpdir(), 'tradeflow-configs-'));
  const dir = join(root, 'configs');
  mkdirSync(join(dir, 'configs'), { recursive: true });
  const config = (models: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ models, ...extra });
  writeFileSync(join(dir, 'configs', 'ok.json'), config([{ signature: 'momentum', basemodel: 'x', enabled: true }]));
  writeFileSync(join(root, 'secret.json'), config([{ signature: 'momentum', basemodel: 'x' }]));
  symlinkSync(join(root, 'secret.json'), join(dir, 'configs', 'link.json'));
  writeFileSync(join(dir, 'configs', 'bad.json'), '{ not json');
  writeFileSync(join(dir, 'configs', 'other.json'), JSON.stringify({ hello: 'world' }));
  writeFileSync(join(dir, 'configs', 'none.json'), config([{ signature: 'momentum', enabled: false }]));
  writeFileSync(
    join(dir, 'configs', 'backwards.json'),
    config([{ signature: 'momentum' }], { date_range: { init_date: '2025-03-10', end_date: '2025-03-03' } }),
  );
  return { root, dir };
}

async function refusal(dir: string, path: string): Promise<{ status: number; message: string; code: string }> {
  try {
    await loadTriggerConfig(dir, path);
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, message: err.message, code: err.code };
    throw err;
  }
  throw new Error(`${path} was accepted`);
}

describe('loadTriggerConfig', () => {
  it('reads the shipped AI-Trader config: its enabled models, date range and initial cash', async () => {
    expect(await loadTriggerConfig(SHIPPED, 'configs/default_config.json')).toEqual({
      configPath: 'configs/default_config.json',
      models: ['buy-and-hold', 'momentum', 'mean-reversion'],
      start: '2025-10-01',
      end: '2025-10-21',
      initialCash: 10000,
    });
  });

  it('takes a path relative to the config folder or an absolute one inside it', async () => {
    const { dir } = configFolder();
    expect((await loadTriggerConfig(dir, 'configs/ok.json')).models).toEqual(['momentum']);
    expect((await loadTriggerConfig(dir, join(dir, 'configs', 'ok.json'))).models).toEqual(['momentum']);
    expect((await loadTriggerConfig(dir, './configs/../configs/ok.json')).models).toEqual(['momentum']);
  });

  it.each([
    ['../secret.json', /outside the config folder/],
    ['configs/../../secret.json', /outside the config folder/],
    ['/etc/passwd', /outside the config folder/],
    ['configs/link.json', /leads outside the config folder/],
    ['configs/missing.json', /no such file/],
    ['configs', /not a file/],
    ['configs/bad.json', /is not JSON/],
    ['configs/other.json', /not an AI-Trader config: models/],
    ['configs/none.json', /enables no model/],
    ['configs/backwards.json', /starts \(2025-03-10\) after it ends/],
    ['configs/ok\0.json', /NUL/],
  ])('refuses %s with a 422 that names the path and says why', async (path, why) => {
    const { dir } = configFolder();
    const r = await refusal(dir, path);
    expect(r).toMatchObject({ status: 422, code: 'invalid_config' });
    expect(r.message).toContain(`config_path '${path.replaceAll('\0', '\\0')}'`);
    expect(r.message).toMatch(why);
  });

  it('says so when the deployment has no config folder', async () => {
    const r = await refusal('/nonexistent/tradeflow-configs', 'configs/default_config.json');
    expect(r.message).toMatch(/no config folder/);
  });
});
