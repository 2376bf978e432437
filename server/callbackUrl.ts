import { callbackUrlRefusal, type WebhookAllowList } from '../jobs/webhookPolicy.js';
import { ApiError } from './http/errors.js';

/**
 * A job's `callback_url`, checked when the job is asked for: a URL that could never be delivered to (bad
 * syntax, another scheme, credentials, a literal address the policy refuses) is a 422 now rather than a
 * failed delivery later. What a host name resolves to is checked at each delivery.
 */
export function checkedCallbackUrl(raw: string | undefined, allow: WebhookAllowList | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const why = callbackUrlRefusal(raw, allow ?? { cidrs: [], hosts: [] });
  if (why) throw new ApiError('invalid_callback_url', `callback_url ${why}`, { callback_url: raw.slice(0, 200) });
  return raw;
}
