import type { z } from '@hono/zod-openapi';
import type { DetailedStatusBody, JobListItem, JobStatusBody, RetryAccepted } from '../responses.js';
import type { DetailsQuery } from '../schemas.js';

/** What the API shows and does for a job, whatever its kind: each kind answers in its own shape. */
export interface JobViews {
  /** `GET /jobs/{id}` (a simulation pages its model-days) */
  status(query?: DetailsQuery): Promise<z.infer<typeof JobStatusBody>>;
  /** An entry of `GET /jobs` */
  listItem(): z.infer<typeof JobListItem>;
  /** `GET /jobs/{id}/status/detailed` */
  detailed(): Promise<z.infer<typeof DetailedStatusBody>>;
  /** `POST /jobs/{id}/retry` */
  retry(owner: string): Promise<{ status: 200 | 202; body: z.infer<typeof RetryAccepted> }>;
  /** What a stop does to this kind of job, for the stop's answer. */
  stopMessage: string;
}
