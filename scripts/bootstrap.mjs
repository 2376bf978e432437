#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and `npm run bench` on a fresh machine.
// It runs on whatever Node the machine has (Debian's may be 20), installs what is missing — npm
// packages (which bring Node 24), the Temporal CLI and FerretDB built with Go — and then hands over
// to TypeScript on Node 24. Plain JS on purpose: nothing is installed yet when it starts.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  ferretdbBuild,
  GO,
  locate,
  needsFerretdb,
  needsTemporal,
  onPath,
  REQUIREMENTS,
  ROOT as root,
  SETPRIV,
  TEMPORAL_CLI_VERSION,
  temporalBuild,
  todoFor,
  toolsDir,
} from '../devstack/requirements.mjs';
import { doctor } from './doctor.mjs';

const binDir = join(root, 'node_modules', '.bin');

function log(msg) {
  process.stderr.write(`[bootstrap] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return r.status ?? 1;
}

function mustRun(cmd, args, opts) {
  const status = run(cmd, args, opts);
  if (status !== 0) {
    log(`failed (exit ${status}): ${cmd} ${args.join(' ')}`);
    process.exit(status);
  }
}

function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

function ensureNpmPackages() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  const stale = !existsSync(marker) || mtime(lock) > mtime(marker) || mtime(join(root, 'package.json')) > mtime(marker);
  if (!stale && existsSync(join(binDir, 'node'))) return;
  // `npm ci` installs exactly what the committed lock file says and never rewrites it, so a fresh clone
  // stays clean; it replaces node_modules as a whole, which a stale tree needs anyway.
  log('installing npm packages (npm ci)');
  const status = run('npm', ['ci', '--no-audit', '--no-fund']);
  if (status !== 0) {
    log(
      `npm ci failed (exit ${status}). If it says package.json and package-lock.json are out of sync, run 'npm install' and commit package-lock.json`,
    );
    process.exit(status);
  }
}

function goInstall(args, cwd, what) {
  const go = locate(GO)?.path;
  if (!go) {
    log(
      `cannot build ${what}: Go is missing. Install ${todoFor(GO)}, or point tradeflow at an external service (see README).`,
    );
    process.exit(1);
  }
  log(`building ${what} with go install (first run only; cached in ${toolsDir()})`);
  mkdirSync(toolsDir(), { recursive: true });
  mustRun(go, ['install', ...args], { cwd, env: { ...process.env, GOBIN: toolsDir(), GOFLAGS: '-buildvcs=false' } });
}

function ensureTemporalCli() {
  const build = temporalBuild();
  if (!build.current) {
    goInstall(
      [`github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
      root,
      `the Temporal CLI v${TEMPORAL_CLI_VERSION}`,
    );
    writeFileSync(build.stamp, TEMPORAL_CLI_VERSION);
  }
  return build.bin;
}

function ensureFerretDb() {
  const build = ferretdbBuild();
  if (!build.current) {
    goInstall(['.'], build.src, `FerretDB v${build.version} (MongoDB wire protocol over SQLite)`);
    writeFileSync(build.stamp, build.want);
  }
  return build.bin;
}

/**
 * Installs the Debian packages of the requirements `command` needs that are missing, or whose preferred
 * program is (catatonit when only tini is there): what a machine happens to have is not relied on.
 */
function ensureDebianPackages(command) {
  const missing = REQUIREMENTS.filter((r) => r.debian && r.neededBy(command, process.env) && !locate(r)?.preferred);
  if (missing.length === 0) return;
  const packages = missing.map((r) => r.debian);
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    const absent = missing.filter((r) => !locate(r));
    for (const r of missing.filter((r) => locate(r))) {
      log(`${r.name}: using ${locate(r)?.path}; as root the set-up would install the Debian package ${r.debian}`);
    }
    if (absent.length) {
      log(
        `missing: ${absent.map((r) => r.name).join(', ')}. Install them (sudo apt-get install ${absent.map((r) => r.debian).join(' ')}) and run again`,
      );
      process.exit(1);
    }
    return;
  }
  log(`installing the Debian packages ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['install', '-y', '-q', ...packages], { env }) !== 0) {
    mustRun('apt-get', ['update', '-q'], { env });
    mustRun('apt-get', ['install', '-y', '-q', ...packages], { env });
  }
}

const command = process.argv[2] ?? 'start';
const scripts = {
  start: 'scripts/start.ts',
  test: 'scripts/test.ts',
  'test-unit': 'scripts/test.ts',
  bench: 'bench/run.ts',
  'sandbox-image': 'scripts/build-sandbox-image.ts',
};
if (!scripts[command]) {
  log(`unknown command '${command}'; use one of ${Object.keys(scripts).join(', ')}`);
  process.exit(2);
}

ensureNpmPackages();
const env = { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` };
// Tests and the benchmark always run their own private Temporal and FerretDB; start uses them unless told otherwise.
if (needsTemporal(command, process.env)) env.TRADEFLOW_TEMPORAL_BIN = ensureTemporalCli();
if (needsFerretdb(command, process.env)) env.TRADEFLOW_FERRETDB_BIN = ensureFerretDb();
ensureDebianPackages(command);
// The doctor's table: what this command runs, where it was found and at which version.
log(`what ${command} runs (npm run doctor lists everything):`);
if ((await doctor([command], { write: (s) => process.stderr.write(s) })) !== 0) process.exit(1);

// The hand-over: the command gets SIGTERM if this process dies (setpriv's parent-death signal), and the
// signals this process gets (npm passes Ctrl-C and kill on to it) are passed on, so the command can stop
// what it started before it exits.
const scriptArgs = command === 'test-unit' ? ['--unit'] : [];
const argv = [join(binDir, 'node'), '--import', 'tsx', scripts[command], ...scriptArgs, ...process.argv.slice(3)];
const setpriv = locate(SETPRIV)?.path;
const child = setpriv
  ? spawn(setpriv, ['--pdeathsig', 'SIGTERM', '--', ...argv], { stdio: 'inherit', cwd: root, env })
  : spawn(argv[0], argv.slice(1), { stdio: 'inherit', cwd: root, env });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
// npm runs this through `sh -c`, and that shell dies of npm's SIGTERM without passing it on: when the
// parent goes, the command is told to stop too.
const parent = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(parentWatch);
  child.kill('SIGTERM');
}, 500);
child.on('error', (err) => {
  log(`${argv.join(' ')}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? osConstants.signals[signal] : 1)));
