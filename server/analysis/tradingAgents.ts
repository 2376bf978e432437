import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Analyst } from '../../analysis/contract.js';
import { withJobCapacity } from '../auth/jobCap.js';
import { checkedCallbackUrl } from '../callbackUrl.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ANALYSIS_START_ERRORS } from '../http/errors.js';
import { jsonBody, jsonResponse } from '../http/openapi.js';
import { validationHook } from '../http/validation.js';
import { TradingAgentsAccepted } from '../responses.js';
import { IdempotencyKey, TradingAgentsJobBody } from '../schemas.js';

// TradingAgents' job API (`POST /jobs`: ticker + date -> decision), a dialect of an analysis start.

const tradingAgentsJob = createRoute({
  method: 'post',
  path: '/',
  summary: 'TradingAgents job API: ticker + date -> decision (an analysis job)',
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKey }),
    body: jsonBody(TradingAgentsJobBody, true),
  },
  responses: {
    202: jsonResponse(TradingAgentsAccepted, 'the job'),
    200: jsonResponse(
      TradingAgentsAccepted,
      'the job an earlier request with the same `Idempotency-Key` and body started',
    ),
    ...ANALYSIS_START_ERRORS,
  },
});

/** What these routes use of the app's dependencies. */
export type TradingAgentsDeps = Pick<AppDeps, 'admission' | 'analyses' | 'auth' | 'jobs' | 'webhooks'>;

export function tradingAgentsRoutes(deps: TradingAgentsDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  // TradingAgents' job API: ticker + date -> decision, on the same machinery as /run.
  app.openapi(tradingAgentsJob, async (c) => {
    const body = c.req.valid('json');
    const callbackUrl = checkedCallbackUrl(body.callback_url, deps.webhooks?.allow);
    const cfg = body.config ?? {};
    const llm = cfg.deep_think_llm ?? cfg.quick_think_llm ?? 'deterministic';
    const analysts = cfg.selected_analysts?.map((a): Analyst => (a === 'social' ? 'sentiment' : a));
    const { jobs, existing } = await withJobCapacity(deps, c.get('owner'), 1, () =>
      deps.analyses.start(
        c.get('owner'),
        [
          {
            ticker: body.ticker,
            pipeline: 'comprehensive',
            date: body.date,
            llm,
            ...(analysts ? { analysts: [...new Set(analysts)] } : {}),
            debateRounds: cfg.max_debate_rounds ?? 1,
            riskRounds: cfg.max_risk_discuss_rounds ?? 1,
            ...(callbackUrl ? { callbackUrl } : {}),
            raw: body,
          },
        ],
        c.req.valid('header')['idempotency-key'],
      ),
    );
    const job = jobs[0]!;
    const accepted = {
      job_id: job._id,
      status: job.status,
      created_at: job.createdAt.toISOString(),
      ticker: body.ticker,
      date: body.date,
    };
    return existing ? c.json(accepted, 200) : c.json(accepted, 202);
  });

  return app;
}
