import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';

// Email-code sign-in over real HTTP and real SMTP: the code travels through an SMTP server on loopback.

const mails: Array<{ to: string[]; raw: string }> = [];
let smtp: SMTPServer;
let h: Harness;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (d: Buffer) => {
        raw += d.toString('utf8');
      });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const { port } = smtp.server.address() as AddressInfo;
  h = await startHarness({
    models: STRATEGY_MODELS,
    env: { TRADEFLOW_SMTP_URL: `smtp://127.0.0.1:${port}`, TRADEFLOW_MAIL_FROM: 'tradeflow <signin@tradeflow.test>' },
  });
}, 120_000);
afterAll(async () => {
  await h?.stop();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

async function mailTo(address: string, after: number): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const mail = mails.slice(after).find((m) => m.to.includes(address));
    if (mail) return mail.raw;
    if (Date.now() > deadline) throw new Error(`no mail to ${address}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('signing in with an emailed code', () => {
  it('the code comes by SMTP, opens a session, and the session starts jobs of its user', async () => {
    const user = await h.createUser('hana@example.com');
    const seen = mails.length;
    const started = await h.api('/auth/email/start', {
      method: 'POST',
      json: { email: 'hana@example.com' },
      key: null,
    });
    expect(started.status).toBe(202);
    const raw = await mailTo('hana@example.com', seen);
    expect(raw).toContain('From: tradeflow <signin@tradeflow.test>');
    const code = /sign-in code: (\d{6})/.exec(raw)?.[1];
    expect(code).toMatch(/^\d{6}$/);

    const verified = await h.api('/auth/email/verify', {
      method: 'POST',
      json: { request_id: started.body.request_id, code },
      key: null,
    });
    expect(verified.status).toBe(200);
    const token = /__Host-tradeflow_session=([A-Za-z0-9_-]{43});/.exec(verified.headers.get('set-cookie') ?? '')?.[1];
    expect(token).toBeDefined();
    const cookie = { cookie: `__Host-tradeflow_session=${token}` };

    const me = await h.api('/me', { key: null, headers: cookie });
    expect(me.body).toMatchObject({ user_id: user.id, via: 'session' });
    const job = await h.api('/simulate/trigger', {
      method: 'POST',
      key: null,
      headers: { ...cookie, origin: h.baseUrl },
      json: { start_date: '2025-03-03', end_date: '2025-03-04', models: ['buy-and-hold'] },
    });
    expect(job.status).toBe(202);
    expect((await h.waitForJob(job.body.job_id)).owner).toBe(user.id);
    // Without an Origin the cookie changes nothing; the code does not open a second session.
    expect((await h.api('/auth/logout-all', { method: 'POST', json: {}, key: null, headers: cookie })).status).toBe(
      403,
    );
    const reused = await h.api('/auth/email/verify', {
      method: 'POST',
      json: { request_id: started.body.request_id, code },
      key: null,
    });
    expect(reused.status).toBe(401);

    const out = await h.api('/auth/logout-all', {
      method: 'POST',
      json: {},
      key: null,
      headers: { ...cookie, origin: h.baseUrl },
    });
    expect(out.status).toBe(204);
    expect((await h.api('/me', { key: null, headers: cookie })).status).toBe(401);
  }, 180_000);

  it('an address without an account gets the same answer and no mail', async () => {
    const seen = mails.length;
    const res = await h.api('/auth/email/start', { method: 'POST', json: { email: 'nobody@example.com' }, key: null });
    expect(res.status).toBe(202);
    // A mail to an address that has an account still arrives after it, so none was sent for nobody.
    await h.createUser('ivy@example.com');
    await h.api('/auth/email/start', { method: 'POST', json: { email: 'ivy@example.com' }, key: null });
    await mailTo('ivy@example.com', seen);
    expect(mails.slice(seen).flatMap((m) => m.to)).toEqual(['ivy@example.com']);
  });
});
