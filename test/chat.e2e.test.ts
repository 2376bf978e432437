// The chat (issue 21, part 5) on the real services: the harness's Temporal, FerretDB and API, with the
// chat route mounted on an app wired as server/wire.ts wires it, and the chat workflow and activity on a
// worker of this file (until workflows/index.ts and the worker register them, the harness's do not).
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatActivities } from '../activities/chat/activities.js';
import { ChatChunks } from '../activities/chat/chunks.js';
import { createLogger } from '../config/logger.js';
import { parseModelsConfig } from '../config/models.js';
import { createMarketSource } from '../config/services.js';
import { chatRoutes } from '../server/chat/route.js';
import { ChatService } from '../server/chat/service.js';
import { MongoChatSessions } from '../server/chat/sessions.js';
import { wireApp } from '../server/wire.js';
import { BarCache } from '../storage/barCache.js';
import { heartbeatClock } from '../worker/heartbeatClock.js';
import { type ChatOptions, DEFAULT_CHAT_OPTIONS } from '../workflows/chat/contract.js';
import { type Harness, startHarness } from './harness.js';
import { startStreamingOpenAi } from './support/fakeOpenAiStream.js';

const LLM_PIECES = ['Apple ', '(AAPL): ', 'the latest ', 'analysis ', 'says ', 'so.'];

let h: Harness;
let llm: Awaited<ReturnType<typeof startStreamingOpenAi>>;
let connection: Connection;
let workerConnection: NativeConnection;
let server: ServerType;
let chatUrl = '';
let worker: { stop(): Promise<void> } | undefined;
let startWorker: () => Promise<{ stop(): Promise<void> }>;
let analysisId = '';
let other: { id: string; key: string };

/** Small runs: the third message lands on a run continued as new; idle sessions end in seconds. */
const OPTIONS: Omit<ChatOptions, 'answerTaskQueue'> = { ...DEFAULT_CHAT_OPTIONS, messagesPerRun: 2 };

beforeAll(async () => {
  // A plain completion is the ticker question (`NONE`: let the conversation decide); a stream is the answer.
  llm = await startStreamingOpenAi((req) => (req.stream ? LLM_PIECES : ['NONE']), { pauseMs: 60 });
  const modelsConfig = {
    models: [
      { id: 'buy-and-hold', strategy: 'buy-and-hold' },
      { id: 'chat-llm', llm: { model: 'fake-chat', base_url: llm.baseUrl, timeout_ms: 10_000 } },
    ],
  };
  h = await startHarness({ models: modelsConfig });
  const models = parseModelsConfig(modelsConfig);
  const market = createMarketSource(h.settings.marketData);
  const logger = createLogger('silent');
  const address = h.env.TEMPORAL_ADDRESS!;
  const chatQueue = `${h.env.TASK_QUEUE_PREFIX}chat-e2e`;

  // The API: the app server/wire.ts builds, with the chat route mounted as server/app.ts will mount it.
  connection = await Connection.connect({ address });
  const { app, deps } = wireApp({
    settings: h.settings,
    db: h.db,
    connection,
    temporalAddress: address,
    temporalUiUrl: 'http://127.0.0.1:8233',
    models,
    market,
    logger,
  });
  const chat = (options: Omit<ChatOptions, 'answerTaskQueue'>) =>
    new ChatService({
      temporal: deps.temporal,
      taskQueue: chatQueue,
      options: { ...options, answerTaskQueue: chatQueue },
      models,
      chunks: new ChatChunks(h.db.db),
      sessions: new MongoChatSessions(h.db.db),
      logger,
    });
  // Mounted beside `/chat` (which server/app.ts serves once integrated, with the default options).
  app.route('/test-chat', chatRoutes({ ...deps, chat: chat(OPTIONS) }));
  // A second mount whose sessions end after two idle seconds.
  app.route('/idle-chat', chatRoutes({ ...deps, chat: chat({ ...OPTIONS, idleTimeoutMs: 2_000 }) }));
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  chatUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  // The chat worker: the session workflow and the answering activity on one queue.
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../workflows/chat/index.ts', import.meta.url)),
    logger: new DefaultLogger('WARN'),
  });
  workerConnection = await NativeConnection.connect({ address });
  startWorker = async () => {
    const w = await Worker.create({
      connection: workerConnection,
      namespace: h.settings.temporal.namespace,
      taskQueue: chatQueue,
      workflowBundle,
      activities: createChatActivities({
        db: h.db.db,
        prices: new BarCache(h.db.collections, market),
        priceSource: market.name,
        knownSymbols: () => market.defaultSymbols(),
        models,
        logger,
      }),
      interceptors: { activity: [heartbeatClock] },
      maxHeartbeatThrottleInterval: '2s',
      shutdownGraceTime: '5s',
    });
    const run = w.run();
    return {
      stop: async () => {
        w.shutdown();
        await run;
      },
    };
  };
  worker = await startWorker();

  // A real analysis of AAPL (the deterministic pipeline) for the admin to chat about.
  const started = await h.api('/run', { method: 'POST', json: { ticker: 'AAPL', date: '2025-10-15' } });
  expect(started.status).toBe(202);
  analysisId = started.body.job_id;
  const done = await h.waitForJob(analysisId, undefined, 120_000);
  expect(done.status).toBe('completed');
  other = await h.createUser('other@example.com');
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await worker?.stop();
  await workerConnection?.close();
  await connection?.close();
  await h?.stop();
  await llm?.close();
});

async function post(body: unknown, o: { key?: string | null; path?: string } = {}) {
  const key = o.key === undefined ? h.adminKey : o.key;
  const res = await fetch(`${chatUrl}${o.path ?? '/test-chat'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function transcript(sessionId: string, key: string = h.adminKey, path = '/test-chat') {
  const res = await fetch(`${chatUrl}${path}/${sessionId}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as any };
}

/** `POST /chat` as a stream: every SSE event, in order, with when it arrived. */
async function postStream(body: unknown) {
  const res = await fetch(`${chatUrl}/test-chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${h.adminKey}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: Array<{ event: string; data: any; at: number }> = [];
  let buffer = '';
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let cut = buffer.indexOf('\n\n'); cut !== -1; cut = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (data !== undefined) events.push({ event, data: JSON.parse(data), at: Date.now() });
    }
  }
  return events;
}

describe('POST /chat, deterministic model', () => {
  let sessionId = '';
  let firstRunId = '';

  it('the first message opens a session and is answered from the latest analysis and prices', async () => {
    const res = await post({ message: 'What do you think of Apple?' });
    expect(res.status).toBe(200);
    sessionId = res.body.session_id;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.turn).toBe(1);
    expect(res.body.ticker).toBe('AAPL');
    expect(res.body.model).toBe('deterministic');
    const a = res.body.grounded_in.analysis;
    expect(a.job_id).toBe(analysisId);
    expect(a.as_of).toBe('2025-10-15');
    expect(['BUY', 'SELL', 'HOLD']).toContain(a.decision);
    expect(res.body.answer).toContain(`job ${analysisId}, as of 2025-10-15: decision ${a.decision}`);
    const p = res.body.grounded_in.prices;
    expect(p.last_date).toBe('2025-10-30');
    expect(res.body.answer).toContain(`The last close of AAPL is $${p.last_close.toFixed(2)} on 2025-10-30`);
    expect(res.body.workflow_url).toContain(encodeURIComponent(`chat-${sessionId}`));
    const desc = await h.temporal.workflow.getHandle(`chat-${sessionId}`).describe();
    expect(desc.type).toBe('chatSessionWorkflow');
    expect(desc.status.name).toBe('RUNNING');
    firstRunId = desc.runId;
  });

  it('the second message in the session sees the conversation: a follow-up stays on the same stock', async () => {
    const res = await post({ message: 'And how has the price moved lately?', session_id: sessionId });
    expect(res.status).toBe(200);
    expect(res.body.session_id).toBe(sessionId);
    expect(res.body.turn).toBe(2);
    expect(res.body.ticker).toBe('AAPL');
    expect(res.body.answer).toMatch(/^Still on AAPL, from earlier in this conversation\./);
    const t = await transcript(sessionId);
    expect(t.status).toBe(200);
    expect(t.body.turns).toBe(2);
    expect(t.body.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(t.body.messages[0].content).toBe('What do you think of Apple?');
  });

  it('keeps the transcript across a worker restart and a continue-as-new', async () => {
    await worker!.stop();
    worker = await startWorker();
    // Two messages per run here: this third one lands on the run the first continued into.
    const res = await post({ message: 'What about nvidia?', session_id: sessionId });
    expect(res.status).toBe(200);
    expect(res.body.turn).toBe(3);
    expect(res.body.ticker).toBe('NVDA');
    expect(res.body.grounded_in.analysis).toBeNull();
    expect(res.body.answer).toContain('There is no completed analysis of NVDA yet');
    expect(res.body.grounded_in.prices.last_close).toBeGreaterThan(0);
    const t = await transcript(sessionId);
    expect(t.body.turns).toBe(3);
    expect(t.body.messages).toHaveLength(6);
    expect(t.body.messages[1].grounded_in.analysis.job_id).toBe(analysisId);
    const desc = await h.temporal.workflow.getHandle(`chat-${sessionId}`).describe();
    expect(desc.runId).not.toBe(firstRunId);
  });

  it("another user's session is not found, to read or to write", async () => {
    expect((await transcript(sessionId, other.key)).status).toBe(404);
    const res = await post({ message: 'hello', session_id: sessionId }, { key: other.key });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
    expect((await post({ message: 'hello', session_id: '00000000-0000-0000-0000-000000000000' })).status).toBe(404);
    expect((await transcript('00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it("answers another user from their own analyses: none of Apple's is theirs", async () => {
    const res = await post({ message: 'What do you think of Apple?' }, { key: other.key });
    expect(res.status).toBe(200);
    expect(res.body.grounded_in.analysis).toBeNull();
    expect(res.body.answer).toContain('There is no completed analysis of AAPL yet');
  });

  it('says so when it recognises no ticker', async () => {
    const res = await post({ message: 'Is it a good day to buy?' });
    expect(res.status).toBe(200);
    expect(res.body.ticker).toBeNull();
    expect(res.body.answer).toContain('I could not tell which stock you mean');
    expect(res.body.answer).toContain('You have analyses of AAPL');
  });

  it('refuses empty, oversized and malformed messages, unknown models, and callers without a key', async () => {
    const empty = await post({ message: '   ' });
    expect(empty.status).toBe(422);
    expect(empty.body).toMatchObject({ error: 'validation_error', reason: 'empty' });
    const long = await post({ message: 'x'.repeat(4_001) });
    expect(long.status).toBe(422);
    expect(long.body).toMatchObject({ error: 'validation_error', reason: 'too_long', max_chars: 4000 });
    expect((await post({ message: 42 })).status).toBe(400);
    expect((await post({ message: 'hi', extra: 1 })).status).toBe(400);
    expect((await post({ message: 'hi', session_id: '../etc' })).status).toBe(400);
    const model = await post({ message: 'hi', model: 'buy-and-hold' });
    expect(model.status).toBe(422);
    expect(model.body.error).toBe('unknown_model');
    expect((await post({ message: 'hi' }, { key: null })).status).toBe(401);
  });

  it('streams the answer as SSE: chunks, then done with the whole message', async () => {
    const events = await postStream({ message: 'Tell me about $AAPL' });
    expect(events[0]!.event).toBe('session');
    const chunks = events.filter((e) => e.event === 'chunk');
    // How many chunks the stream sees depends on the machine's pace (it reads what is written so far);
    // that they arrive while the answer is written is the LLM test's, whose server sets the pace.
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data.session_id).toBe(events[0]!.data.session_id);
    expect(chunks.map((c) => c.data.text).join('')).toBe(done.data.message);
    expect(done.data.message).toContain(analysisId);
  });

  it('resumes a session that ended idle, with its transcript', async () => {
    const first = await post({ message: 'What about Apple?' }, { path: '/idle-chat' });
    expect(first.status).toBe(200);
    const id = first.body.session_id;
    const handle = h.temporal.workflow.getHandle(`chat-${id}`);
    const ended = await handle.result();
    expect(ended).toMatchObject({ ended: 'idle', turns: 1 });
    expect((await transcript(id, h.adminKey, '/idle-chat')).body.state).toBe('ended');
    const again = await post({ message: 'and its last close?', session_id: id }, { path: '/idle-chat' });
    expect(again.status).toBe(200);
    expect(again.body.turn).toBe(2);
    expect(again.body.ticker).toBe('AAPL');
    const t = await transcript(id, h.adminKey, '/idle-chat');
    expect(t.body.state).toBe('open');
    expect(t.body.messages).toHaveLength(4);
  });
});

describe('POST /chat, LLM model (the fake OpenAI-compatible server)', () => {
  it('streams the model’s answer as it is written, grounded in the analysis it was given', async () => {
    const before = llm.requests.length;
    const events = await postStream({ message: 'What about Apple?', model: 'chat-llm' });
    const chunks = events.filter((e) => e.event === 'chunk');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data.message).toBe(LLM_PIECES.join(''));
    expect(done.data.model).toBe('chat-llm');
    expect(done.data.grounded_in.analysis.job_id).toBe(analysisId);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.map((c) => c.data.text).join('')).toBe(LLM_PIECES.join(''));
    // Written over ~360 ms: the chunks arrived while it was written, not all at the end.
    expect(chunks.at(-1)!.at - chunks[0]!.at).toBeGreaterThan(100);
    const sent = llm.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.stream).toBe(true);
    const system = sent[0]!.messages[0]!;
    expect(system.role).toBe('system');
    expect(system.content).toContain(analysisId);
    expect(system.content).toContain('The last close of AAPL');
  });

  it('gives the model the conversation so far', async () => {
    const first = await post({ message: 'What about Apple?', model: 'chat-llm' });
    const before = llm.requests.length;
    const second = await post({ message: 'Why?', session_id: first.body.session_id, model: 'chat-llm' });
    expect(second.status).toBe(200);
    expect(second.body.ticker).toBe('AAPL');
    const sent = llm.requests.slice(before);
    // No ticker in "Why?": the model was asked for one, then answered with the history.
    const answered = sent.find((r) => r.stream)!;
    expect(answered.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(answered.messages[1]!.content).toBe('What about Apple?');
  });
});
