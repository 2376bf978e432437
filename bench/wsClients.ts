// Child process of the benchmark: opens N WebSockets to the price hub, each subscribed to one of M
// symbols, and reports each price's delivery latency (receive time minus the time the poller published
// it) over a measured window. Run apart from the server so the clients' parsing does not slow it.
import WebSocket from 'ws';

const [url, countArg, symbolsArg, windowArg] = process.argv.slice(2);
const count = Number(countArg);
const symbols = (symbolsArg ?? '').split(',');
const windowMs = Number(windowArg);
const key = process.env.TRADEFLOW_API_KEY!;

const latencies: number[] = [];
let measuring = false;
let slowClosed = 0;
let otherClosed = 0;
let snapshots = 0;

function connect(i: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url!, { headers: { authorization: `Bearer ${key}` } });
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', symbols: [symbols[i % symbols.length]] }));
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
    let first = true;
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type !== 'price') return;
      // The first price is the snapshot sent at subscribe, not a delivery.
      if (first) {
        first = false;
        snapshots++;
        return;
      }
      if (measuring) latencies.push(Date.now() - Date.parse(m.published_at));
    });
    ws.on('close', (code) => {
      if (code === 1013) slowClosed++;
      else if (measuring) otherClosed++;
    });
  });
}

const sockets: WebSocket[] = [];
// Opened in batches, as clients arrive, not in one burst of handshakes.
for (let i = 0; i < count; i += 50) {
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => connect(i + j)))));
}
process.stdout.write(`${JSON.stringify({ phase: 'connected', count: sockets.length })}\n`);
await new Promise((r) => setTimeout(r, 3_000));
measuring = true;
await new Promise((r) => setTimeout(r, windowMs));
measuring = false;
for (const ws of sockets) ws.close();
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({ phase: 'done', count, snapshots, deliveries: latencies.length, p50: pct(50), p99: pct(99), max: latencies.at(-1), slowClosed, otherClosed })}\n`,
);
