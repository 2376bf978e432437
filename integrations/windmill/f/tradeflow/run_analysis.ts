// Runs a tradeflow analysis of one ticker (POST /run) and waits for it to end (GET /jobs/{id}), within a
// bound. completed returns the decision and the files; failed, llm_timeout and stopped are errors.

const FINAL = ['completed', 'failed', 'llm_timeout', 'stopped'];

/** One call to tradeflow; a non-2xx answer or no answer is an Error that says what was asked and why. */
async function tradeflowCall(
  tradeflow: RT.Tradeflow,
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; body: any }> {
  if (!tradeflow?.base_url) throw new Error('the tradeflow resource has no base_url');
  const url = `${tradeflow.base_url.replace(/\/+$/, '')}${path}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (tradeflow.api_key) headers.authorization = `Bearer ${tradeflow.api_key}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new Error(`tradeflow did not answer ${method} ${url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  if (!res.ok) {
    const what = typeof body === 'object' && body ? `${body.error ?? 'error'}: ${body.message ?? text}` : text;
    const err = new Error(`tradeflow answered ${method} ${path} with ${res.status} ${what}`.slice(0, 2000));
    Object.assign(err, { status: res.status, body });
    throw err;
  }
  return { status: res.status, body };
}

export async function main(
  tradeflow: RT.Tradeflow,
  ticker: string,
  pipeline:
    | 'comprehensive'
    | 'financial-only'
    | 'model-only'
    | 'news-only'
    | 'model-to-price'
    | 'news-to-price' = 'comprehensive',
  date?: string,
  llm?: string,
  poll_interval_seconds = 10,
  timeout_minutes = 60,
) {
  if (!ticker) throw new Error('ticker is empty');
  const request: Record<string, unknown> = { ticker, pipeline };
  if (date) request.date = date;
  if (llm) request.llm = llm;
  const started = (await tradeflowCall(tradeflow, 'POST', '/run', request)).body;
  const jobId: string = started.job_id;
  console.log(`analysis ${jobId} of ${ticker} (${pipeline}) started`);
  const interval = Math.max(0.1, poll_interval_seconds) * 1000;
  const deadline = Date.now() + timeout_minutes * 60_000;
  let job: any = started;
  while (!FINAL.includes(job.status)) {
    if (Date.now() + interval > deadline) {
      throw new Error(
        `analysis ${jobId} did not end within ${timeout_minutes} minutes (still ${job.status}, at ${job.progress ?? 'its start'}); it keeps running in tradeflow: stop it with POST /jobs/${jobId}/stop`,
      );
    }
    await new Promise((r) => setTimeout(r, interval));
    try {
      job = (await tradeflowCall(tradeflow, 'GET', `/jobs/${encodeURIComponent(jobId)}`)).body;
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status !== undefined && status < 500) throw e;
      console.log(`${(e as Error).message}; asking again`);
    }
    if (job.progress) console.log(`${job.status}: ${job.progress}`);
  }
  if (job.status !== 'completed') {
    throw new Error(
      `analysis ${jobId} of ${ticker} ended ${job.status}${job.error_type ? ` (${job.error_type})` : ''}: ${job.error ?? 'no error recorded'}${job.retryable ? `; retry it with POST /jobs/${jobId}/retry` : ''}`,
    );
  }
  return {
    job_id: jobId,
    status: job.status,
    ticker: job.ticker,
    date: job.date,
    pipeline: job.pipeline,
    result: job.result,
    files: (job.files ?? []).map((f: any) => ({ path: f.path, kind: f.kind, size: f.size, sha256: f.sha256 })),
    downloads: job.links?.downloads ?? {},
  };
}
