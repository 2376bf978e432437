// Polls GET /simulate/status/{job_id} until the simulation ends, within a bound.
// completed returns; partial returns (results exist for the model-days that succeeded) unless
// accept_partial is false; failed and stopped are errors naming the job's error and progress.
// Inside Windmill the run's progress bar follows the simulation's (windmill-client's setProgress).
import * as wmill from 'windmill-client';

const FINAL = ['completed', 'partial', 'failed', 'stopped'];

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

function progressLine(job: any): string {
  const p = job.progress ?? {};
  return `${job.status}: ${p.completed ?? '?'}/${p.total_model_days ?? '?'} model-days completed, ${p.failed ?? 0} failed, ${p.skipped ?? 0} skipped`;
}

/** The simulation's percent as the Windmill job's progress; only inside a Windmill job, and never fatal. */
async function reportProgress(job: any): Promise<void> {
  if (!process.env.WM_JOB_ID) return;
  const percent = Number(job.progress?.percent);
  if (!Number.isFinite(percent)) return;
  try {
    await wmill.setProgress(Math.max(0, Math.min(100, percent)));
  } catch (e) {
    console.log(`could not set the Windmill progress: ${(e as Error).message}`);
  }
}

export async function main(
  tradeflow: RT.Tradeflow,
  job_id: string,
  poll_interval_seconds = 30,
  timeout_minutes = 180,
  accept_partial = true,
) {
  if (!job_id) throw new Error('job_id is empty: pass the job_id trigger_simulation returned');
  const interval = Math.max(0.1, poll_interval_seconds) * 1000;
  const deadline = Date.now() + timeout_minutes * 60_000;
  const path = `/simulate/status/${encodeURIComponent(job_id)}?details_limit=0`;
  let last: any;
  for (;;) {
    try {
      last = (await tradeflowCall(tradeflow, 'GET', path)).body;
    } catch (e) {
      const status = (e as { status?: number }).status;
      // 404 and other client errors will not change by waiting; a 5xx or no answer may (a restart, an outage).
      if (status !== undefined && status < 500) throw e;
      console.log(`${(e as Error).message}; asking again`);
    }
    if (last) await reportProgress(last);
    if (last && FINAL.includes(last.status)) break;
    if (last) console.log(progressLine(last));
    if (Date.now() + interval > deadline) {
      throw new Error(
        `simulation ${job_id} did not end within ${timeout_minutes} minutes (${last ? progressLine(last) : 'tradeflow never answered'}); it keeps running in tradeflow: wait again, or stop it with POST /jobs/${job_id}/stop`,
      );
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  console.log(progressLine(last));
  if (last.status === 'failed' || last.status === 'stopped' || (last.status === 'partial' && !accept_partial)) {
    throw new Error(`simulation ${job_id} ended ${last.status}: ${last.error ?? progressLine(last)}`);
  }
  return {
    job_id,
    status: last.status,
    date_range: last.date_range,
    models: last.models,
    progress: last.progress,
    completed_at: last.completed_at ?? null,
    total_duration_seconds: last.total_duration_seconds ?? null,
  };
}
