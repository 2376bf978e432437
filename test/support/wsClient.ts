import WebSocket from 'ws';

/** A test's WebSocket client: every message kept in order, waited for by predicate with a bound. */
export interface TestSocket {
  ws: WebSocket;
  messages: any[];
  send(body: unknown): void;
  /** The first message (after `from`) that `match` accepts; fails after `timeoutMs`. */
  next(match: (m: any) => boolean, timeoutMs?: number, from?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** Opens a socket, or rejects with the HTTP status the upgrade was refused with. */
export function openSocket(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    const messages: any[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data) => {
      messages.push(JSON.parse(String(data)));
      for (const w of waiters) w();
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: String(reason) })),
    );
    ws.once('unexpected-response', (_req, res) =>
      reject(
        Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
          status: res.statusCode,
          headers: res.headers,
        }),
      ),
    );
    ws.once('error', (err) => reject(err));
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        send: (body) => ws.send(typeof body === 'string' ? body : JSON.stringify(body)),
        next: (match, timeoutMs = 15_000, from = 0) =>
          new Promise((res, rej) => {
            const look = () => {
              const found = messages.slice(from).find(match);
              if (found === undefined) return false;
              waiters.delete(check);
              clearTimeout(timer);
              res(found);
              return true;
            };
            const check = () => void look();
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.slice(-5))}`));
            }, timeoutMs);
            if (!look()) waiters.add(check);
          }),
        closed,
        close: async () => {
          if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
          await closed;
        },
      }),
    );
  });
}
