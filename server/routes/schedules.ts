import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, Next } from 'hono';
import { checkedCallbackUrl } from '../callbackUrl.js';
import { type AppDeps, type AppEnv, listOwner, maySee } from '../context.js';
import { ApiError, errorResponses, WRITE_ERROR_CODES } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { MAX_RUNS } from '../schedules/service.js';
import { BackfillBound, CreateScheduleBody, OverlapPolicy, ScheduleIdString } from '../schedules/spec.js';
import { queryInt } from '../schemas.js';

const ScheduleView = z
  .object({
    schedule_id: z.string(),
    managed: z.boolean(),
    paused: z.boolean(),
    note: z.string().nullable(),
    next_action_times: z.array(z.string()),
  })
  .catchall(z.unknown())
  .openapi('Schedule');

const Params = z.object({ scheduleId: ScheduleIdString });
const json = <T extends z.ZodTypeAny>(schema: T) => ({ content: { 'application/json': { schema } } });
const NoteBody = z.object({ note: z.string().max(500).optional() }).strict();
const optionalBody = <T extends z.ZodTypeAny>(schema: T) => ({
  required: false,
  content: { 'application/json': { schema } },
});

const create = createRoute({
  method: 'post',
  path: '/',
  summary:
    'Create a Temporal Schedule: a typed spec (calendars, cron lines or intervals), time zone, overlap policy, catch-up window',
  request: { body: { required: true, ...json(CreateScheduleBody) } },
  responses: {
    201: { description: 'the schedule as Temporal has it', ...json(ScheduleView) },
    ...errorResponses(
      'bad_request',
      'invalid_schedule',
      'conflict',
      'unknown_ticker',
      'unknown_model',
      'invalid_callback_url',
      'service_unavailable',
      ...WRITE_ERROR_CODES,
    ),
  },
});

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'The namespace’s schedules (`managed`: made through this API)',
  request: { query: z.object({ limit: queryInt(1, 500, 100) }) },
  responses: {
    200: { description: 'schedules', ...json(z.object({ schedules: z.array(ScheduleView) })) },
    ...errorResponses('bad_request', 'service_unavailable'),
  },
});

const get = createRoute({
  method: 'get',
  path: '/{scheduleId}',
  summary: 'A schedule: its spec as sent, state, next and recent actions, running workflows, Web UI link',
  request: { params: Params },
  responses: {
    200: { description: 'the schedule', ...json(ScheduleView) },
    ...errorResponses('not_found', 'bad_request', 'service_unavailable'),
  },
});

const runs = createRoute({
  method: 'get',
  path: '/{scheduleId}/runs',
  summary:
    'Workflows the schedule started, newest first, with each completed one’s result (a skip and why, a batch’s status and digest)',
  request: { params: Params, query: z.object({ limit: queryInt(1, MAX_RUNS, 20) }) },
  responses: {
    200: { description: 'runs', ...json(z.object({ runs: z.array(z.object({}).catchall(z.unknown())) })) },
    ...errorResponses('not_found', 'bad_request', 'service_unavailable'),
  },
});

const digest = createRoute({
  method: 'get',
  path: '/{scheduleId}/runs/{workflowId}/digest',
  summary: 'A daily-reports run’s digest of the day’s decisions: PDF (default) or markdown',
  request: {
    params: Params.extend({ workflowId: z.string().min(1).max(300) }),
    query: z.object({ format: z.enum(['pdf', 'markdown']).default('pdf') }),
  },
  responses: {
    200: {
      description: 'the digest',
      content: { 'application/pdf': { schema: z.string() }, 'text/markdown': { schema: z.string() } },
    },
    ...errorResponses('not_found', 'file_not_available', 'not_completed', 'bad_request', 'service_unavailable'),
  },
});

const stateChange = (action: 'pause' | 'resume') =>
  createRoute({
    method: 'post',
    path: `/{scheduleId}/${action}`,
    summary: action === 'pause' ? 'Pause: no action is taken until resumed' : 'Resume a paused schedule',
    request: { params: Params, body: optionalBody(NoteBody) },
    responses: {
      200: { description: 'the schedule', ...json(ScheduleView) },
      ...errorResponses('not_found', 'bad_request', 'service_unavailable', ...WRITE_ERROR_CODES),
    },
  });

const trigger = createRoute({
  method: 'post',
  path: '/{scheduleId}/trigger',
  summary: 'Take the action now (paused or not); `overlap_policy` overrides the schedule’s for this one',
  request: { params: Params, body: optionalBody(z.object({ overlap_policy: OverlapPolicy.optional() }).strict()) },
  responses: {
    202: { description: 'triggered', ...json(z.object({ schedule_id: z.string(), triggered: z.literal(true) })) },
    ...errorResponses('not_found', 'bad_request', 'service_unavailable', ...WRITE_ERROR_CODES),
  },
});

const backfill = createRoute({
  method: 'post',
  path: '/{scheduleId}/backfill',
  summary:
    'Take the actions the spec would have taken from `start` to `end` (dates: whole days in the schedule’s time zone, end included); each runs as of its own time',
  request: {
    params: Params,
    body: {
      required: true,
      ...json(
        z
          .object({
            start: BackfillBound,
            end: BackfillBound,
            overlap_policy: OverlapPolicy.default('buffer_all').openapi({
              description: 'default `buffer_all`: one after another',
            }),
          })
          .strict(),
      ),
    },
  },
  responses: {
    202: {
      description: 'the backfill was accepted',
      ...json(z.object({ schedule_id: z.string(), start_at: z.string(), end_at: z.string(), time_zone: z.string() })),
    },
    ...errorResponses('not_found', 'bad_request', 'validation_error', 'service_unavailable', ...WRITE_ERROR_CODES),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/{scheduleId}',
  summary: 'Delete the schedule (workflows it started keep running)',
  request: { params: Params },
  responses: {
    200: { description: 'deleted', ...json(z.object({ schedule_id: z.string(), deleted: z.literal(true) })) },
    ...errorResponses('not_found', 'bad_request', 'service_unavailable', ...WRITE_ERROR_CODES),
  },
});

const notFoundAsNull = (err: unknown): null => {
  if (err instanceof ApiError && err.code === 'not_found') return null;
  throw err;
};

/** `/schedules`: Temporal Schedules of daily reports and simulation catch-ups, controllable here and in the Web UI. */
export function scheduleRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const service = () => {
    if (!deps.schedules) throw new ApiError('service_unavailable', 'schedules are not configured on this server');
    return deps.schedules;
  };

  // A schedule belongs to who made it: anyone else's (and one made outside this API, unless admin) is not found.
  app.use('/:scheduleId/*', ownedSchedule);
  app.use('/:scheduleId', ownedSchedule);
  async function ownedSchedule(c: Context<AppEnv>, next: Next) {
    const scheduleId = c.req.param('scheduleId') ?? '';
    const owner = scheduleId.length <= 200 ? await service().ownerOf(scheduleId).catch(notFoundAsNull) : null;
    if (owner === null ? !c.get('principal').admin : !maySee(c, owner)) {
      throw new ApiError('not_found', `no schedule ${scheduleId.slice(0, 200)}`);
    }
    await next();
  }

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    // The jobs each run starts deliver their end there: a URL the webhook policy refuses is a 422 now.
    checkedCallbackUrl(body.action.callback_url, deps.webhooks?.allow);
    return c.json(await service().create(c.get('owner'), body), 201);
  });
  app.openapi(list, async (c) =>
    c.json({ schedules: await service().list(c.req.valid('query').limit, listOwner(c)) }, 200),
  );
  app.openapi(get, async (c) => c.json(await service().get(c.req.valid('param').scheduleId), 200));
  app.openapi(runs, async (c) =>
    c.json({ runs: await service().runs(c.req.valid('param').scheduleId, c.req.valid('query').limit) }, 200),
  );
  app.openapi(digest, async (c) => {
    const { scheduleId, workflowId } = c.req.valid('param');
    const { format } = c.req.valid('query');
    const files = await service().digest(scheduleId, workflowId);
    const root = resolve(deps.dataDir);
    const file = resolve(root, format === 'pdf' ? files.pdf : files.markdown);
    if (!file.startsWith(`${root}${sep}`))
      throw new ApiError('file_not_available', 'the digest is outside the data folder');
    const bytes = await readFile(file).catch(() => {
      throw new ApiError('file_not_available', `the digest of ${workflowId} is gone from the data folder`);
    });
    const name = `digest-${workflowId.replace(/[^A-Za-z0-9._-]/g, '_')}.${format === 'pdf' ? 'pdf' : 'md'}`;
    return c.body(bytes, 200, {
      'content-type': format === 'pdf' ? 'application/pdf' : 'text/markdown; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
    });
  });
  app.openapi(stateChange('pause'), async (c) => {
    const { note } = c.req.valid('json') ?? {};
    return c.json(await service().pause(c.req.valid('param').scheduleId, note), 200);
  });
  app.openapi(stateChange('resume'), async (c) => {
    const { note } = c.req.valid('json') ?? {};
    return c.json(await service().resume(c.req.valid('param').scheduleId, note), 200);
  });
  app.openapi(trigger, async (c) => {
    const { scheduleId } = c.req.valid('param');
    const { overlap_policy } = c.req.valid('json') ?? {};
    await service().trigger(scheduleId, overlap_policy);
    return c.json({ schedule_id: scheduleId, triggered: true as const }, 202);
  });
  app.openapi(backfill, async (c) => {
    const { scheduleId } = c.req.valid('param');
    const body = c.req.valid('json');
    const range = await service().backfill(scheduleId, body.start, body.end, body.overlap_policy);
    return c.json({ schedule_id: scheduleId, ...range }, 202);
  });
  app.openapi(remove, async (c) => {
    const { scheduleId } = c.req.valid('param');
    await service().delete(scheduleId);
    return c.json({ schedule_id: scheduleId, deleted: true as const }, 200);
  });
  return app;
}
