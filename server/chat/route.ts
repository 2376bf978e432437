import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { type ChatReply, DETERMINISTIC_CHAT_MODEL, MAX_CHAT_MESSAGE_CHARS } from '../../workflows/chat/contract.js';
import { type AppDeps, type AppEnv, workflowUiLink } from '../context.js';
import { ApiError, errorResponses, WRITE_ERROR_CODES } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { type ChatService, MAX_SESSION_ID, type SentMessage } from './service.js';

/** How often a stream looks for more of the answer being written. */
const POLL_MS = 100;

const SessionId = z
  .string()
  .max(MAX_SESSION_ID)
  .regex(/^[A-Za-z0-9-]+$/, 'a session id as POST /chat returned it');

const ChatRequest = z
  .object({
    message: z
      .string()
      .openapi({ description: `1 to ${MAX_CHAT_MESSAGE_CHARS} characters`, example: 'What about Apple?' }),
    session_id: SessionId.optional().openapi({ description: 'continue this session; absent: a new one' }),
    model: z.string().max(100).optional().openapi({
      description: '`deterministic` (the default: an answer templated from the analysis) or a configured LLM model id',
    }),
  })
  .strict();

const Grounding = z
  .object({
    analysis: z
      .object({
        job_id: z.string(),
        as_of: z.string(),
        completed_at: z.string().nullable(),
        decision: z.enum(['BUY', 'SELL', 'HOLD']).nullable(),
        rating: z.string().nullable(),
        confidence: z.number().nullable(),
        close_at_analysis: z.number().nullable(),
        target_price: z.number().nullable(),
        fair_value: z.number().nullable(),
        summary: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: "the ticker's latest completed analysis of the session's owner; null: none" }),
    prices: z
      .object({
        last_date: z.string(),
        last_close: z.number(),
        change_pct: z.number().nullable(),
        sessions: z.number(),
        source: z.string().nullable(),
      })
      .nullable(),
  })
  .openapi('ChatGrounding');

const ChatAnswerBody = z
  .object({
    session_id: z.string(),
    turn: z.number().int(),
    answer: z.string(),
    ticker: z.string().nullable().openapi({ description: 'the stock the answer is about; null: none recognised' }),
    model: z.string(),
    answered_at: z.string(),
    grounded_in: Grounding,
    workflow_url: z.string().optional(),
  })
  .openapi('ChatAnswer');

const ChatMessageBody = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  at: z.string(),
  ticker: z.string().nullable().optional(),
  grounded_in: Grounding.nullable().optional(),
  model: z.string().optional(),
});

const ChatSessionBody = z
  .object({
    session_id: z.string(),
    created_at: z.string(),
    turns: z.number().int(),
    state: z.enum(['open', 'closing', 'ended']),
    messages: z.array(ChatMessageBody),
    workflow_url: z.string().optional(),
  })
  .openapi('ChatSession');

const post = createRoute({
  method: 'post',
  path: '/',
  summary:
    'Ask about a stock: the answer is grounded in its latest analysis and prices. With `Accept: text/event-stream`, SSE events `session`, `chunk` (as the answer is written), `reset` (a retried answer starts again) and `done` (the whole answer), or `error`.',
  request: { body: { required: true, content: { 'application/json': { schema: ChatRequest } } } },
  responses: {
    200: {
      description: 'the answer',
      content: {
        'application/json': { schema: ChatAnswerBody },
        'text/event-stream': { schema: z.string() },
      },
    },
    ...errorResponses(
      'bad_request',
      'validation_error',
      'unknown_model',
      'not_found',
      'conflict',
      'service_unavailable',
      ...WRITE_ERROR_CODES,
    ),
  },
});

const get = createRoute({
  method: 'get',
  path: '/{sessionId}',
  summary: "A chat session's transcript (the workflow's query; an ended session's is what it returned)",
  request: { params: z.object({ sessionId: SessionId.openapi({ param: { name: 'sessionId', in: 'path' } }) }) },
  responses: {
    200: { description: 'the transcript, oldest first', content: { 'application/json': { schema: ChatSessionBody } } },
    ...errorResponses('bad_request', 'not_found', 'conflict', 'service_unavailable'),
  },
});

export type ChatRouteDeps = Pick<AppDeps, 'temporalUiUrl' | 'namespace'> & { chat: ChatService };

const answerBody = (r: ChatReply, workflowUrl: string | undefined) => ({
  session_id: r.sessionId,
  turn: r.turn,
  answer: r.answer,
  ticker: r.ticker,
  model: r.model,
  answered_at: r.answeredAt,
  grounded_in: r.grounded_in,
  ...(workflowUrl ? { workflow_url: workflowUrl } : {}),
});

/** `POST /chat` and `GET /chat/{sessionId}`: mount at `/chat`. */
export function chatRoutes(deps: ChatRouteDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const link = (sessionId: string) => workflowUiLink(deps, deps.chat.workflowId(sessionId));

  app.openapi(post, async (c) => {
    const body = c.req.valid('json');
    const message = body.message.trim();
    if (message === '') {
      throw new ApiError('validation_error', 'message is empty', { field: 'message', reason: 'empty' });
    }
    if (message.length > MAX_CHAT_MESSAGE_CHARS) {
      throw new ApiError('validation_error', `message is over ${MAX_CHAT_MESSAGE_CHARS} characters`, {
        field: 'message',
        reason: 'too_long',
        max_chars: MAX_CHAT_MESSAGE_CHARS,
      });
    }
    const model = body.model ?? DETERMINISTIC_CHAT_MODEL;
    deps.chat.checkModel(model);
    const sent = await deps.chat.send(c.get('principal'), message, model, body.session_id);
    const url = link(sent.sessionId);
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      try {
        return c.json(answerBody(await sent.reply, url), 200);
      } finally {
        void deps.chat.chunks?.forget([sent.streamKey]).catch(() => undefined);
      }
    }
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (sse) => {
      await sse.writeSSE({
        event: 'session',
        data: JSON.stringify({ session_id: sent.sessionId, ...(url ? { workflow_url: url } : {}) }),
      });
      await streamAnswer(deps.chat, sent, url, sse);
    }) as never;
  });

  app.openapi(get, async (c) => {
    const { sessionId } = c.req.valid('param');
    const s = await deps.chat.session(c.get('principal'), sessionId);
    const url = link(sessionId);
    return c.json(
      {
        session_id: s.sessionId,
        created_at: s.createdAt,
        turns: s.turns,
        state: s.state,
        messages: s.messages,
        ...(url ? { workflow_url: url } : {}),
      },
      200,
    );
  });

  return app;
}

type Sse = { writeSSE(m: { event: string; data: string }): Promise<void>; aborted: boolean };

/**
 * Sends the answer as it is written (the chunks the activity publishes), then the whole answer: `done`
 * is the reference, so a client that missed a chunk, or saw an attempt that was retried, has it right.
 */
async function streamAnswer(chat: ChatService, sent: SentMessage, url: string | undefined, sse: Sse): Promise<void> {
  let settled: { reply: ChatReply } | { error: unknown } | undefined;
  const ended = sent.reply.then(
    (reply) => {
      settled = { reply };
    },
    (error: unknown) => {
      settled = { error };
    },
  );
  let shown = '';
  let attempt = 0;
  const chunks = chat.chunks;
  while (!sse.aborted) {
    const finished = settled !== undefined;
    const doc = chunks ? await chunks.read(sent.streamKey).catch(() => null) : null;
    if (doc) {
      if (doc.attempt !== attempt) {
        if (shown) await sse.writeSSE({ event: 'reset', data: JSON.stringify({ attempt: doc.attempt }) });
        attempt = doc.attempt;
        shown = '';
      }
      if (doc.text.length > shown.length && doc.text.startsWith(shown)) {
        await sse.writeSSE({ event: 'chunk', data: JSON.stringify({ text: doc.text.slice(shown.length) }) });
        shown = doc.text;
      }
    }
    // One more read after the answer landed: its last chunks are written before the activity returns.
    if (finished) break;
    await Promise.race([ended, new Promise((r) => setTimeout(r, POLL_MS))]);
  }
  await ended;
  if (sse.aborted || !settled) return;
  if ('error' in settled) {
    const err = settled.error;
    await sse.writeSSE({
      event: 'error',
      data: JSON.stringify(
        err instanceof ApiError
          ? { error: err.code, message: err.message }
          : { error: 'internal_error', message: String(err) },
      ),
    });
    return;
  }
  const r = settled.reply;
  if (r.answer.startsWith(shown) && r.answer.length > shown.length) {
    await sse.writeSSE({ event: 'chunk', data: JSON.stringify({ text: r.answer.slice(shown.length) }) });
  }
  await sse.writeSSE({ event: 'done', data: JSON.stringify({ ...answerBody(r, url), message: r.answer }) });
  void chunks?.forget([sent.streamKey]).catch(() => undefined);
}
