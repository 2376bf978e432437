import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request of a fake OpenAI-compatible server: its JSON body when it is `POST …/chat/completions`,
 * else a 404 in the API's error shape is sent and undefined returned.
 */
export async function chatCompletionRequest<T>(req: IncomingMessage, res: ServerResponse): Promise<T | undefined> {
  let body = '';
  for await (const chunk of req) body += chunk;
  if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    return undefined;
  }
  return JSON.parse(body) as T;
}
