// Small node scripts the sandbox tests run inside a sandbox (written into the job folder). Plain
// CommonJS so they run on the bare node binary of the image, without tsx.

/** Interleaved stdout/stderr lines, a partial last line, and what the sandbox's environment holds. */
export const LINES_SCRIPT = `
for (let i = 1; i <= 50; i++) process.stdout.write('out ' + i + '\\n');
for (let i = 1; i <= 20; i++) process.stderr.write('err ' + i + '\\n');
process.stdout.write(JSON.stringify({ env: process.env, cwd: process.cwd() }) + '\\n');
process.stdout.write('partial without newline');
`;

export const EXIT_3_SCRIPT = `console.log('failing'); process.exit(3);`;

/** Runs until stopped; `mode` decides how it takes SIGTERM. Prints "ready" once its handler is set. */
export function waitingScript(mode: 'default' | 'trap' | 'ignore'): string {
  const handler =
    mode === 'trap'
      ? `process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });`
      : mode === 'ignore'
        ? `process.on('SIGTERM', () => console.log('ignoring SIGTERM'));`
        : '';
  return `${handler}\nsetInterval(() => {}, 1000);\nconsole.log('ready');\n`;
}

/** Touches Buffers until the memory limit ends it. */
export const OOM_SCRIPT = `
const kept = [];
for (let i = 1; ; i++) {
  kept.push(Buffer.alloc(8 << 20, i));
  console.log('allocated ' + i * 8 + ' MiB');
}
`;

/** Grows V8's heap (not Buffers): ends on --max-old-space-size. */
export const HEAP_OOM_SCRIPT = `
const kept = [];
for (;;) kept.push(new Array(1e5).fill({ n: Math.random() }));
`;

/** Tries a TCP connection to host:port given as arguments; prints "connected" or "failed <code>". */
export const CONNECT_SCRIPT = `
const socket = require('node:net').connect({ host: process.argv[2], port: Number(process.argv[3]), timeout: 3000 });
socket.on('connect', () => { console.log('connected'); socket.destroy(); });
socket.on('timeout', () => { console.log('failed ETIMEDOUT'); socket.destroy(); process.exitCode = 1; });
socket.on('error', (err) => { console.log('failed ' + err.code); process.exitCode = 1; });
`;

/** Writes into the job folder (relative to the working directory and through JOB_DIR). */
export const WRITE_SCRIPT = `
const fs = require('node:fs');
fs.writeFileSync('written-relative.txt', 'relative');
fs.writeFileSync(require('node:path').join(process.env.JOB_DIR, 'written-via-env.txt'), 'via JOB_DIR');
console.log('written');
`;
