import { upgradeWebSocket } from '@hono/node-server';
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { WSContext } from 'hono/ws';
import type { Logger } from 'pino';
import type { FeedKind } from '../../trading/realtime/feed.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import type { FeedHub, Subscriber } from './feedHub.js';
import { type ClientMessage, type ProtocolError, parseClientMessage } from './protocol.js';

/** The hubs of one API instance, and the limits every connection has. */
export interface RealtimeHubs {
  price: FeedHub;
  /** Absent when no news source is configured: a news subscriber is told so. */
  news?: FeedHub;
  /** The symbols a closed source (files, synthetic) holds; any for Yahoo. */
  knownSymbols?: () => Promise<string[]>;
  /** Symbols one connection may hold. */
  maxSymbolsPerConnection: number;
  /** Open connections a user may hold on this instance. */
  maxConnectionsPerUser: number;
  /** Open connections by user: counted at the upgrade, released at the close. */
  connections: Map<string, number>;
}

const PROTOCOL = `Send JSON: {"type": "subscribe" | "unsubscribe", "symbols": ["AAPL", …]}, {"type": "ping"} or {"type": "health"}.
The server answers {"type": "price" | "news", "symbol", "data", "published_at"} (a subscribe gets the latest at once),
{"type": "subscribed" | "unsubscribed", "symbols"}, {"type": "pong"}, {"type": "health", …} or {"type": "error", "code", "message"}.
A client that does not read is closed with 1013 (slow consumer). Authenticate the upgrade like any request (API key or session cookie).`;

function socketRoute(path: string, what: string) {
  return createRoute({
    method: 'get',
    path,
    summary: `WebSocket: live ${what}`,
    description: PROTOCOL,
    responses: {
      ...errorResponses('upgrade_required', 'forbidden_origin', 'too_many_connections'),
    },
  });
}

let nextSubscriberId = 1;

/** `/api/realtime/ws` (prices) and `/api/news/ws` (news), upgraded through the app's whole middleware. */
export function realtimeRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const hubs = deps.realtime;
  const routes: Array<[string, FeedKind, string]> = [
    ['/realtime/ws', 'price', 'prices'],
    ['/news/ws', 'news', 'news'],
  ];
  for (const [path, kind, what] of routes) {
    const route = socketRoute(path, what);
    const upgrade = hubs
      ? [
          originAllowed(deps.allowedOrigins ?? []),
          connectionCap(hubs),
          upgradeWebSocket((c) => socketEvents(hubs, kind, c.get('owner'), deps.logger)),
        ]
      : [];
    app.openapi({ ...route, middleware: upgrade as MiddlewareHandler[] } as typeof route, () => {
      throw new ApiError('upgrade_required', `${path} is a WebSocket: connect with a WebSocket client`, {
        hint: PROTOCOL,
      });
    });
  }
  return app;
}

/**
 * A browser sends its page's Origin on every WebSocket handshake, and the cookie with it, whatever the
 * site: a socket opened from another site is refused (cross-site WebSocket hijacking). Programs send
 * no Origin.
 */
function originAllowed(allowedOrigins: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowed.has(origin.toLowerCase())) {
      let host: string | undefined;
      try {
        host = new URL(origin).host.toLowerCase();
      } catch {
        host = undefined;
      }
      const own = (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
      if (host !== own) {
        throw new ApiError('forbidden_origin', `a WebSocket from ${origin} is not accepted`, {
          hint: 'set TRADEFLOW_ALLOWED_ORIGINS to accept a site you trust',
        });
      }
    }
    await next();
  };
}

/** Each user holds at most so many sockets on an instance: one client cannot take all of its memory. */
function connectionCap(hubs: RealtimeHubs): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
    const owner = c.get('owner');
    if ((hubs.connections.get(owner) ?? 0) >= hubs.maxConnectionsPerUser) {
      throw new ApiError(
        'too_many_connections',
        `this user has ${hubs.maxConnectionsPerUser} WebSockets open on this instance already: subscribe to more symbols on one`,
        {},
        { 'Retry-After': '5' },
      );
    }
    await next();
  };
}

function socketEvents(hubs: RealtimeHubs, kind: FeedKind, owner: string, logger: Logger) {
  const hub = kind === 'price' ? hubs.price : hubs.news;
  let sub: Subscriber | undefined;
  // One message at a time, in order: an unsubscribe never overtakes the subscribe before it.
  let queue: Promise<void> = Promise.resolve();
  const send = (ws: WSContext, body: unknown) => {
    if (ws.readyState === 1) ws.send(JSON.stringify(body));
  };
  const error = (ws: WSContext, e: ProtocolError) => send(ws, { type: 'error', ...e });
  return {
    onOpen(_event: Event, ws: WSContext) {
      hubs.connections.set(owner, (hubs.connections.get(owner) ?? 0) + 1);
      const raw = ws.raw as { bufferedAmount: number } | undefined;
      sub = {
        id: nextSubscriberId++,
        send: (text) => {
          if (ws.readyState === 1) ws.send(text);
        },
        bufferedAmount: () => raw?.bufferedAmount ?? 0,
        close: (code, reason) => ws.close(code, reason),
      };
    },
    onMessage(event: MessageEvent, ws: WSContext) {
      if (typeof event.data !== 'string') {
        error(ws, { code: 'invalid_message', message: 'messages are JSON text, not binary' });
        return;
      }
      const parsed = parseClientMessage(event.data);
      if (!parsed.ok) {
        error(ws, parsed.error);
        return;
      }
      queue = queue
        .then(() => handle(parsed.message, ws))
        .catch((err: Error) => {
          logger.warn({ kind, owner, err: err.message }, 'a WebSocket message failed');
          error(ws, { code: 'invalid_message', message: 'the message could not be handled; try again' });
        });
    },
    onClose() {
      hubs.connections.set(owner, Math.max(0, (hubs.connections.get(owner) ?? 1) - 1));
      if (hubs.connections.get(owner) === 0) hubs.connections.delete(owner);
      if (sub) hub?.remove(sub);
    },
  };

  async function handle(m: ClientMessage, ws: WSContext) {
    if (!sub) return;
    switch (m.type) {
      case 'ping':
        send(ws, { type: 'pong', ...(m.id !== undefined ? { id: m.id } : {}), at: new Date().toISOString() });
        return;
      case 'health':
        send(ws, {
          type: 'health',
          state: hub ? (hub.stats.lastTailError ? 'degraded' : 'ok') : 'not_configured',
          channel: kind,
          subscribers: hub?.subscriberCount ?? 0,
          symbols: hub?.symbolCount ?? 0,
          yours: hub ? [...hub.subscriptionsOf(sub)] : [],
          last_item_at: hub?.stats.lastItemAt ?? null,
        });
        return;
      case 'unsubscribe':
        hub?.unsubscribe(sub, m.symbols);
        send(ws, { type: 'unsubscribed', symbols: m.symbols });
        return;
      case 'subscribe': {
        if (!hub) {
          error(ws, { code: 'not_configured', message: 'no news source is configured (NEWS_FILES, or Yahoo online)' });
          return;
        }
        let wanted = m.symbols;
        if (hubs.knownSymbols) {
          const known = new Set(await hubs.knownSymbols());
          const unknown = wanted.filter((s) => !known.has(s));
          if (unknown.length) {
            error(ws, {
              code: 'unknown_symbol',
              message: 'the market source does not hold these symbols',
              symbols: unknown,
            });
          }
          wanted = wanted.filter((s) => known.has(s));
        }
        const held = hub.subscriptionsOf(sub);
        const adding = wanted.filter((s) => !held.has(s));
        if (held.size + adding.length > hubs.maxSymbolsPerConnection) {
          error(ws, {
            code: 'too_many_symbols',
            message: `a connection holds at most ${hubs.maxSymbolsPerConnection} symbols (it holds ${held.size})`,
          });
          return;
        }
        if (wanted.length === 0) return;
        send(ws, { type: 'subscribed', symbols: wanted });
        await hub.subscribe(sub, wanted);
        return;
      }
    }
  }
}
