import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PROJECT_ROOT } from '../test/paths.js';
import type { Harness } from '../test/service.js';

const SUBSCRIBERS = 1_000;
const SYMBOLS = 50;
const WINDOW_MS = 20_000;

/** A full collection before each memory reading, so the figure is what the sockets hold, not garbage. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** 1,000 price subscribers over 50 symbols on one API instance: delivery latency and memory per subscriber. */
export async function realtimeBenchmark(svc: Harness) {
  const symbols = await universe(svc);
  const hub = svc.deps.realtime!.price;
  collectGarbage();
  const before = process.memoryUsage();
  let during: NodeJS.MemoryUsage | undefined;
  const report = await new Promise<Record<string, number>>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/wsClients.ts',
        `${svc.baseUrl.replace(/^http/, 'ws')}/api/realtime/ws`,
        String(SUBSCRIBERS),
        symbols.join(','),
        String(WINDOW_MS),
      ],
      // The key goes by environment, not argv (which `ps` shows to every user).
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TRADEFLOW_API_KEY: svc.adminKey },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (!during && out.includes('"connected"')) {
        collectGarbage();
        during = process.memoryUsage();
      }
    });
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '{}';
      code === 0 ? resolve(JSON.parse(last)) : reject(new Error(`clients exited ${code}`));
    });
  });
  const perSubscriber = (k: 'rss' | 'heapUsed') =>
    during ? ((during[k] - before[k]) / SUBSCRIBERS / 1024).toFixed(1) : 'n/a';
  const expected = (WINDOW_MS / Number(svc.env.REALTIME_PRICE_POLL_MS)) * SUBSCRIBERS;
  console.log(
    `price hub: ${SUBSCRIBERS} subscribers over ${symbols.length} symbols, one instance, polls every ${svc.env.REALTIME_PRICE_POLL_MS} ms: ${report.deliveries} deliveries in ${WINDOW_MS / 1000} s (about ${expected.toFixed(0)} expected), latency from publish p50 ${report.p50} ms, p99 ${report.p99} ms, max ${report.max} ms (tail every ${svc.env.REALTIME_TAIL_MS} ms); per subscriber ~${perSubscriber('heapUsed')} KiB heap, ~${perSubscriber('rss')} KiB RSS; ${report.slowClosed} dropped as slow, ${hub.stats.delivered} sent by the hub`,
  );
}

async function universe(svc: Harness): Promise<string[]> {
  const all = await svc.deps.market.defaultSymbols();
  return all.filter((s) => s !== 'QQQ').slice(0, SYMBOLS);
}
