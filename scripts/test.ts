// `npm test`: lint and format check, type check, workflow bundle, then the `unit` tests (nothing started)
// and the `e2e` tests (a real Temporal dev server, FerretDB and Podman, started by test/globalSetup.ts).
// `npm run test:unit` (this script with --unit) runs the unit tests alone.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const extra = args.filter((a) => a !== '--unit');

function step(title: string, cmd: string, cmdArgs: string[]): void {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

/** Runs one vitest project; returns its exit code and counts. */
function tests(project: 'unit' | 'e2e'): { status: number; report?: Report } {
  const resultsFile = `${root}.vitest-${project}.json`;
  rmSync(resultsFile, { force: true });
  console.log(`\n== ${project} tests (vitest)`);
  const r = spawnSync(
    bin('vitest'),
    [
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${resultsFile}`,
      // `npm test -- some/file` names files of one layer: the other has none to run, which is fine.
      ...(extra.length ? ['--passWithNoTests'] : []),
      ...extra,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  let report: Report | undefined;
  if (existsSync(resultsFile)) {
    report = JSON.parse(readFileSync(resultsFile, 'utf8')) as Report;
    rmSync(resultsFile, { force: true });
  }
  return { status: r.status ?? 1, ...(report ? { report } : {}) };
}

if (!unitOnly) {
  step('lint and format (biome)', bin('biome'), ['check', '.']);
  step('type check (tsc)', bin('tsc'), ['--noEmit']);
  step('workflow bundle', process.execPath, ['--import', 'tsx', 'scripts/build-workflow-bundle.ts']);
}

const runs = unitOnly ? [tests('unit')] : [tests('unit'), tests('e2e')];
const sum = (f: (r: Report) => number) => runs.reduce((n, r) => n + (r.report ? f(r.report) : 0), 0);
const skipped = sum((r) => r.numPendingTests + r.numTodoTests);
// The closing line in the plain `N passed, N failed` form that CI reads.
console.log(
  `\n${sum((r) => r.numPassedTests)} passed, ${sum((r) => r.numFailedTests)} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
process.exit(runs.find((r) => r.status !== 0)?.status ?? 0);
