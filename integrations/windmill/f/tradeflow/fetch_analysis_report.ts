// Downloads one artifact of an ended analysis (GET /jobs/{id}/download/{artifact}), by default its PDF
// report, and returns it the way Windmill shows a file: {file: {content: base64, filename}} renders as a
// download in the run's result; content_type, size and sha256 travel beside them.
import { createHash } from 'node:crypto';

export async function main(
  tradeflow: RT.Tradeflow,
  job_id: string,
  artifact:
    | 'professional-report'
    | 'financial-model'
    | 'professional-report-markdown'
    | 'financial-summary'
    | 'news-summary'
    | 'all-results' = 'professional-report',
) {
  if (!tradeflow?.base_url) throw new Error('the tradeflow resource has no base_url');
  if (!job_id) throw new Error('job_id is empty: pass the job_id run_analysis returned');
  const path = `/jobs/${encodeURIComponent(job_id)}/download/${artifact}`;
  const url = `${tradeflow.base_url.replace(/\/+$/, '')}${path}`;
  const headers: Record<string, string> = {};
  if (tradeflow.api_key) headers.authorization = `Bearer ${tradeflow.api_key}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    throw new Error(`tradeflow did not answer GET ${url}: ${(e as Error).message}`);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  if (!res.ok) {
    let what = bytes.toString('utf8').slice(0, 1000);
    try {
      const body = JSON.parse(what);
      what = `${body.error}: ${body.message}`;
    } catch {}
    throw new Error(`tradeflow answered GET ${path} with ${res.status} ${what}`);
  }
  const contentType = (res.headers.get('content-type') ?? 'application/octet-stream').split(';')[0]!.trim();
  const disposition = res.headers.get('content-disposition') ?? '';
  const filename =
    /filename\*=UTF-8''([^;]+)/i
      .exec(disposition)?.[1]
      ?.replace(/%([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(Number.parseInt(h, 16))) ??
    /filename="?([^";]+)"?/i.exec(disposition)?.[1] ??
    `${job_id}-${artifact}`;
  console.log(`${filename}: ${bytes.length} bytes of ${contentType}`);
  return {
    file: {
      content: bytes.toString('base64'),
      filename,
      content_type: contentType,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    },
  };
}
