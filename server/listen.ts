import { type ServerType, serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';

/** A client message larger than this closes its socket (1009): the protocol's messages are small. */
const MAX_SOCKET_MESSAGE_BYTES = 64 * 1024;

/**
 * Serves the app over HTTP with WebSocket upgrades: an upgrade goes through the app like any request
 * (hosts, rate limits, authentication), and only a route that accepts it (server/realtime/routes.ts)
 * gets a socket. The server, the API process and the tests all listen through this.
 */
export function listen(
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>,
  port: number,
  hostname: string,
  onListening?: (port: number) => void,
): { server: ServerType; sockets: WebSocketServer; closeSockets(code?: number, reason?: string): void } {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_SOCKET_MESSAGE_BYTES });
  const server = serve(
    { fetch: fetch as Parameters<typeof serve>[0]['fetch'], port, hostname, websocket: { server: sockets } },
    (info) => onListening?.(info.port),
  );
  return {
    server,
    sockets,
    // An upgraded socket is not the HTTP server's any more: closing the server does not end it.
    closeSockets: (code = 1001, reason = 'the server is going away') => {
      for (const ws of sockets.clients) ws.close(code, reason);
    },
  };
}
