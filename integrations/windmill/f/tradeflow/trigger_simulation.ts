// Starts a tradeflow simulation (the AI-Trader trigger contract): POST /simulate/trigger.
// Without start_date each model catches up from the day after its last simulated day; without end_date
// the last day with market data is used. The same request again returns the job already running.

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

export async function main(tradeflow: RT.Tradeflow, start_date?: string, end_date?: string, models?: string[]) {
  const request: Record<string, unknown> = {};
  if (start_date) request.start_date = start_date;
  if (end_date) request.end_date = end_date;
  if (models?.length) request.models = models;
  let answer: { status: number; body: any };
  try {
    answer = await tradeflowCall(tradeflow, 'POST', '/simulate/trigger', request);
  } catch (e) {
    const body = (e as { body?: any }).body;
    if (body?.current_job_id) {
      throw new Error(
        `${(e as Error).message} (another simulation over these models is running: ${body.current_job_id}; run this again once it ends)`,
      );
    }
    throw e;
  }
  const job = answer.body;
  // 200 {"status": "current"}: every model is up to date, there is nothing to simulate.
  if (job.status === 'current' || !job.job_id) {
    console.log(`nothing to simulate: ${job.message ?? 'every model is up to date'}`);
    return { job_id: null, status: 'current', created: false, request, ...job };
  }
  console.log(`${answer.status === 202 ? 'started' : 'already running'} simulation ${job.job_id} (${job.status})`);
  return { ...job, created: answer.status === 202, request };
}
