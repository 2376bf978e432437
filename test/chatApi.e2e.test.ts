// The chat through the API as `npm start` serves it: the route in server/app.ts, the session workflow
// on the orchestrator's worker, the answers on the `chat` queue's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ models: STRATEGY_MODELS });
});
afterAll(async () => {
  await h?.stop();
});

describe('POST /chat on the integrated service', () => {
  it('answers, keeps the session, and shows the transcript', async () => {
    const first = await h.api('/chat', { method: 'POST', json: { message: 'What about Nvidia?' } });
    expect(first.status).toBe(200);
    expect(first.body.ticker).toBe('NVDA');
    expect(first.body.answer).toContain('There is no completed analysis of NVDA yet');
    expect(first.body.grounded_in.prices.last_date).toBe('2025-10-30');
    const second = await h.api('/chat', {
      method: 'POST',
      json: { message: 'and the last close?', session_id: first.body.session_id },
    });
    expect(second.body.turn).toBe(2);
    expect(second.body.ticker).toBe('NVDA');
    const t = await h.api(`/chat/${first.body.session_id}`);
    expect(t.status).toBe(200);
    expect(t.body.messages).toHaveLength(4);
    const user = await h.createUser('someone@example.com');
    expect((await h.api(`/chat/${first.body.session_id}`, { key: user.key })).status).toBe(404);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await h.api('/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/chat', '/chat/{sessionId}']));
  });
});
