// Child process of the benchmark: opens N SSE streams of one job and reports each event's delivery
// latency (receive time minus the time the event was written). Run apart from the server so the
// clients' parsing does not slow the server it measures.
import { readSse } from '../test/sseClient.js';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const latencies: number[] = [];
let incomplete = 0;
await Promise.all(
  Array.from({ length: count }, async () => {
    const { events } = await readSse(url!, { timeoutMs: 120_000, key: process.env.TRADEFLOW_API_KEY! });
    const connectedAt = events[0]?.receivedAt ?? 0;
    if (events.at(-1)?.event !== 'completed') incomplete += 1;
    for (const e of events) {
      // Events written before this stream connected are replay, not delivery latency.
      if (!e.id || !e.data?.timestamp || Date.parse(e.data.timestamp) < connectedAt) continue;
      latencies.push(e.receivedAt - Date.parse(e.data.timestamp));
    }
  }),
);
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({ count, incomplete, events: latencies.length, p50: pct(50), p99: pct(99), max: latencies.at(-1) })}\n`,
);
