// `npm test`: lint and format check, type check, workflow bundle, compose validation, then every test
// against a real Temporal dev server and FerretDB (started by test/globalSetup.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const resultsFile = `${root}.vitest-results.json`;

function step(title: string, cmd: string, args: string[]): void {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

step('lint and format (biome)', bin('biome'), ['check', '.']);
step('type check (tsc)', bin('tsc'), ['--noEmit']);
step('workflow bundle', process.execPath, ['--import', 'tsx', 'scripts/build-workflow-bundle.ts']);

rmSync(resultsFile, { force: true });
console.log('\n== tests (vitest)');
const extra = process.argv.slice(2);
const r = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...extra],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
// The closing line in the plain `N passed, N failed` form that CI reads.
if (existsSync(resultsFile)) {
  const report = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  rmSync(resultsFile, { force: true });
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(
    `\n${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`,
  );
}
process.exit(r.status ?? 1);
