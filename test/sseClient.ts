export interface SseEvent {
  id?: string;
  event: string;
  data: any;
  receivedAt: number;
}

/**
 * Reads a text/event-stream over real HTTP and parses its frames (id, event, data; comments ignored).
 * `stopAfter` aborts the connection once it returns true, as a client that drops mid-stream would.
 */
export async function readSse(
  url: string,
  opts: {
    lastEventId?: string;
    stopAfter?: (events: SseEvent[]) => boolean;
    timeoutMs?: number;
    /** The API key to send (`Authorization: Bearer`). */
    key?: string;
  } = {},
): Promise<{ events: SseEvent[]; status: number; closedByServer: boolean }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 60_000);
  const res = await fetch(url, {
    headers: {
      accept: 'text/event-stream',
      ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}),
      ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
    },
    signal: ac.signal,
  });
  const events: SseEvent[] = [];
  let closedByServer = false;
  if (!res.body) return { events, status: res.status, closedByServer };
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        closedByServer = true;
        break;
      }
      buffer += value;
      let cut = buffer.indexOf('\n\n');
      while (cut !== -1) {
        const raw = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const ev: SseEvent = { event: 'message', data: '', receivedAt: Date.now() };
        let dataText = '';
        for (const line of raw.split('\n')) {
          if (line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const field = i === -1 ? line : line.slice(0, i);
          const val = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'id') ev.id = val;
          else if (field === 'event') ev.event = val;
          else if (field === 'data') dataText += (dataText ? '\n' : '') + val;
        }
        if (dataText || ev.id) {
          ev.data = dataText ? JSON.parse(dataText) : null;
          events.push(ev);
          if (opts.stopAfter?.(events)) {
            ac.abort();
            return { events, status: res.status, closedByServer };
          }
        }
        cut = buffer.indexOf('\n\n');
      }
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return { events, status: res.status, closedByServer };
}
