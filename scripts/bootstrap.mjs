#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and `npm run bench` on a fresh machine.
// It runs on whatever Node the machine has (Debian's may be 20), installs what is missing — npm
// packages (which bring Node 24), the Temporal CLI and FerretDB built with Go — and then hands over
// to TypeScript on Node 24. Plain JS on purpose: nothing is installed yet when it starts.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const toolsDir = process.env.TRADEFLOW_TOOLS_DIR ?? join(homedir(), '.cache', 'tradeflow', 'bin');
const TEMPORAL_CLI_VERSION = '1.5.1';
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

function fileHash(paths) {
  const h = createHash('sha256');
  for (const p of paths) h.update(readFileSync(p));
  return h.digest('hex');
}

function goInstall(args, cwd, what) {
  if (spawnSync('go', ['version']).status !== 0) {
    log(
      `cannot build ${what}: the 'go' command is missing. Install Go, or point tradeflow at an external service (see README).`,
    );
    process.exit(1);
  }
  log(`building ${what} with go install (first run only; cached in ${toolsDir})`);
  mkdirSync(toolsDir, { recursive: true });
  mustRun('go', ['install', ...args], { cwd, env: { ...process.env, GOBIN: toolsDir, GOFLAGS: '-buildvcs=false' } });
}

function ensureTemporalCli() {
  // A module-proxy build reports its version as 0.0.0-DEV, so a stamp file records what was built.
  const bin = join(toolsDir, 'temporal');
  const stamp = join(toolsDir, 'temporal.stamp');
  if (!existsSync(bin) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== TEMPORAL_CLI_VERSION) {
    goInstall(
      [`github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
      root,
      `the Temporal CLI v${TEMPORAL_CLI_VERSION}`,
    );
    writeFileSync(stamp, TEMPORAL_CLI_VERSION);
  }
  return bin;
}

function ensureFerretDb() {
  const src = join(root, 'tools', 'ferretdb');
  const bin = join(toolsDir, 'ferretdb');
  const stamp = join(toolsDir, 'ferretdb.stamp');
  const want = fileHash(['go.mod', 'go.sum', 'main.go'].map((f) => join(src, f)));
  if (!existsSync(bin) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    goInstall(['.'], src, 'FerretDB v1 (MongoDB wire protocol over SQLite)');
    writeFileSync(stamp, want);
  }
  return bin;
}

/** Debian packages the test suite drives (docker-compose validates the production compose file). */
function ensureDebianPackage(binary, pkg) {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
    log(`'${binary}' is missing: install the Debian package '${pkg}' (or its equivalent) and run again`);
    process.exit(1);
  }
  log(`installing the Debian package ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['install', '-y', '-q', pkg], { env }) !== 0) {
    mustRun('apt-get', ['update', '-q'], { env });
    mustRun('apt-get', ['install', '-y', '-q', pkg], { env });
  }
}

const command = process.argv[2] ?? 'start';
const scripts = {
  start: 'scripts/start.ts',
  test: 'scripts/test.ts',
  bench: 'bench/run.ts',
  'sandbox-image': 'scripts/build-sandbox-image.ts',
};
if (!scripts[command]) {
  log(`unknown command '${command}'; use one of ${Object.keys(scripts).join(', ')}`);
  process.exit(2);
}

ensureNpmPackages();
const env = { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` };
// Tests always run their own private Temporal and FerretDB; start and bench use them unless told otherwise.
const needsLocal = command === 'test' || command === 'bench';
const runsServices = command !== 'sandbox-image';
if (runsServices && (needsLocal || !process.env.TEMPORAL_ADDRESS)) env.TRADEFLOW_TEMPORAL_BIN = ensureTemporalCli();
if (runsServices && (needsLocal || !process.env.MONGODB_URI)) env.TRADEFLOW_FERRETDB_BIN = ensureFerretDb();
if (command === 'test') {
  ensureDebianPackage('docker-compose', 'docker-compose');
  // The sandbox tests run analysis containers through Podman's Docker-compatible API (runc: crun
  // fails on this kernel's cgroups); pdftotext checks the text layer of generated PDF reports.
  ensureDebianPackage('podman', 'podman');
  ensureDebianPackage('runc', 'runc');
  ensureDebianPackage('pdftotext', 'poppler-utils');
}

const node24 = join(binDir, 'node');
process.exit(run(node24, ['--import', 'tsx', scripts[command], ...process.argv.slice(3)], { env }));
