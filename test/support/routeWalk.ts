// Walks every route of the app's route table (Hono's own, so a route added later is walked without anyone
// listing it) as an anonymous client, as a user who owns nothing there, as the owner and as an admin.
import { expect } from 'vitest';
import { PUBLIC_PATHS } from '../../server/http/middleware/paths.js';

export interface Route {
  method: string;
  /** Hono's path, `:param` and `:param{regex}` included. */
  path: string;
}

export type Send = (method: string, path: string, key: string | undefined) => Promise<{ status: number; text: string }>;

/** Every handler of the app (middleware excluded), each method and path once. */
export function routeTable(app: { routes: ReadonlyArray<{ method: string; path: string }> }): Route[] {
  const seen = new Map<string, Route>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  return [...seen.values()];
}

/** What each path parameter names: the owner's resources. A parameter the walk does not know fails it. */
export interface OwnedIds {
  jobId: string;
  batchId: string;
  userId: string;
  keyId: string;
  /** A schedule the owner made (the e2e walk, on a real Temporal). */
  scheduleId?: string;
}

// A run the owner's schedule never had: its digest is a 404 of the run, not of the schedule.
const FIXED: Record<string, string> = {
  artifact: 'professional-report',
  path: 'reports/summary.md',
  workflowId: 'no-such-run',
  // Not configured in the unit app (a 404 that says so); signed in through in test/oauth.e2e.test.ts.
  provider: 'google',
  sessionId: '0123456789abcdef',
  // Market data belongs to no one.
  symbol: 'AAPL',
};

export function fill(path: string, ids: OwnedIds): string {
  return path.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => {
    const value = (ids as unknown as Record<string, string>)[name] ?? FIXED[name];
    if (value === undefined) throw new Error(`the route walk does not know path parameter :${name} (${path})`);
    return encodeURIComponent(value);
  });
}

const OWNERSHIP_404 = /"message":"no (job|batch|user|key|schedule) /;
const isAdminRoute = (path: string) => path === '/admin' || path.startsWith('/admin/');
const hasIds = (path: string) => /:(jobId|batchId|userId|keyId|scheduleId)\b/.test(path);

/** The walk: what each kind of caller must get from every route. Returns the routes walked. */
export async function walkRoutes(
  routes: Route[],
  send: Send,
  who: { owner: { key: string; ids: OwnedIds }; other: { key: string }; admin: { key: string } },
): Promise<string[]> {
  const ids = who.owner.ids;
  const ownerIds = Object.values(ids);
  // Deletions last: a user's deletion after its keys', and the caller's own key (it locks the caller out) at the end.
  const rank = (r: Route) =>
    r.method !== 'DELETE' ? 0 : r.path.startsWith('/me/') ? 3 : r.path === '/admin/users/:userId' ? 2 : 1;
  const ordered = [...routes].sort((a, b) => rank(a) - rank(b));
  const walked: string[] = [];
  for (const r of ordered) {
    const path = fill(r.path, ids);
    const name = `${r.method} ${r.path}`;
    walked.push(name);

    const anonymous = await send(r.method, path, undefined);
    if (PUBLIC_PATHS.has(path)) expect(anonymous.status, `${name} anonymous`).not.toBe(401);
    else expect(anonymous.status, `${name} anonymous`).toBe(401);
    if (PUBLIC_PATHS.has(path)) continue;

    const other = await send(r.method, path, who.other.key);
    if (isAdminRoute(r.path)) {
      expect(other.status, `${name} as another user`).toBe(403);
    } else if (hasIds(r.path)) {
      expect(other.status, `${name} as another user: ${other.text.slice(0, 200)}`).toBe(404);
      expect(other.text, name).toMatch(OWNERSHIP_404);
    } else {
      expect([401, 403], `${name} as another user`).not.toContain(other.status);
      // A list, a search or a trigger: nothing of the owner's in it (a 404 above only echoes the id asked for).
      for (const id of ownerIds) expect(other.text, `${name} as another user shows ${id}`).not.toContain(id);
    }
  }
  for (const r of ordered) {
    const path = fill(r.path, ids);
    const name = `${r.method} ${r.path}`;
    if (PUBLIC_PATHS.has(path)) continue;
    // The owner's schedule stays for the admin's pass, which deletes it last.
    if (r.method === 'DELETE' && r.path === '/schedules/:scheduleId') continue;
    const owner = await send(r.method, path, who.owner.key);
    if (isAdminRoute(r.path)) {
      expect(owner.status, `${name} as the owner (not an admin)`).toBe(403);
    } else {
      expect([401, 403], `${name} as the owner: ${owner.text.slice(0, 200)}`).not.toContain(owner.status);
      expect(owner.text, `${name} as the owner`).not.toMatch(OWNERSHIP_404);
    }
  }
  for (const r of ordered) {
    const path = fill(r.path, ids);
    const name = `${r.method} ${r.path}`;
    if (PUBLIC_PATHS.has(path)) continue;
    const admin = await send(r.method, path, who.admin.key);
    expect([401, 403], `${name} as an admin: ${admin.text.slice(0, 200)}`).not.toContain(admin.status);
    // `/me` is the caller's own: the owner's key id there is nothing of the admin's.
    if (!r.path.startsWith('/me/')) expect(admin.text, `${name} as an admin`).not.toMatch(OWNERSHIP_404);
  }
  return walked;
}

/** A `Send` over any fetch: writes carry a JSON body no route accepts, so none changes anything but deletions. */
export function sendVia(fetchLike: (url: string, init: RequestInit) => Promise<Response>, baseUrl: string): Send {
  return async (method, path, key) => {
    const res = await fetchLike(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(method === 'POST' || method === 'PATCH' ? { 'content-type': 'application/json' } : {}),
      },
      ...(method === 'POST' || method === 'PATCH' ? { body: JSON.stringify({ route_walk: true }) } : {}),
    });
    // A live stream of a running job would not end: its status is the answer.
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, text: '' };
    }
    return { status: res.status, text: await res.text() };
  };
}
