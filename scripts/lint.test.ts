// The lint step of `npm test` (`biome check .`) skips what .gitignore ignores: a newcomer runs `npm start`
// and the README's examples first, which write reports into the checkout's data folder (.data/).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../devstack/requirements.mjs';

const biome = join(ROOT, 'node_modules', '.bin', 'biome');
// Generated the way reports are: valid code, not formatted the way Biome wants it.
const GENERATED = 'const  report = {ticker:"AAPL",   rating: "buy"}\nexport default report\n';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the project's lint configuration with one source file and one generated file at `generatedAt`. */
function project(generatedAt: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tradeflow-lint-'));
  dirs.push(dir);
  copyFileSync(join(ROOT, 'biome.json'), join(dir, 'biome.json'));
  copyFileSync(join(ROOT, '.gitignore'), join(dir, '.gitignore'));
  mkdirSync(join(dir, 'server'));
  writeFileSync(join(dir, 'server', 'app.ts'), "export const app = 'ok';\n");
  mkdirSync(join(dir, generatedAt, '..'), { recursive: true });
  writeFileSync(join(dir, generatedAt), GENERATED);
  return dir;
}

const lint = (cwd: string) => spawnSync(biome, ['check', '.'], { cwd, encoding: 'utf8' });

describe('the lint step', () => {
  it('passes with generated files in the data folder', () => {
    const r = lint(project('.data/reports/local/AAPL/20261207T082900Z/summary.ts'));
    expect(r.stderr + r.stdout).not.toMatch(/\.data/);
    expect(r.status).toBe(0);
  });

  it('still fails on the same file where the project keeps code (the check is live)', () => {
    const r = lint(project('server/report.ts'));
    expect(r.status).not.toBe(0);
  });
});
