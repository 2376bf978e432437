// A load generator in its own process (so its work does not slow the server it measures): `concurrency`
// clients each send requests back to back until `total` are done. A request's body may hold `{i}`,
// replaced by its number plus `offset`; each sends the API key in TRADEFLOW_API_KEY. Prints latency percentiles and status counts as JSON.
const [url, method, concurrencyArg, totalArg, bodyTemplate, offsetArg] = process.argv.slice(2);
const offset = Number(offsetArg ?? 0);
const concurrency = Number(concurrencyArg);
const total = Number(totalArg);
let next = 0;
const latencies: number[] = [];
const statuses: Record<string, number> = {};

async function client() {
  for (let i = next++; i < total; i = next++) {
    const t0 = performance.now();
    const res = await fetch(url!, {
      method,
      headers: {
        authorization: `Bearer ${process.env.TRADEFLOW_API_KEY}`,
        ...(bodyTemplate ? { 'content-type': 'application/json' } : {}),
      },
      ...(bodyTemplate ? { body: bodyTemplate.replaceAll('{i}', String(offset + i)) } : {}),
    });
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
}

await Promise.all(Array.from({ length: concurrency }, client));
latencies.sort((a, b) => a - b);
const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
process.stdout.write(JSON.stringify({ count: latencies.length, p50: at(0.5), p99: at(0.99), statuses }));
