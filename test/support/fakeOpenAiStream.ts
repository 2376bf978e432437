import { createServer, type Server } from 'node:http';
import { chatCompletionRequest } from './chatRoute.js';

export interface StreamedChatRequest {
  model: string;
  stream?: boolean;
  messages: Array<{ role: string; content?: string | null }>;
}

/**
 * An OpenAI-compatible chat endpoint on loopback that streams (`stream: true`: server-sent
 * `chat.completion.chunk` events ending with `[DONE]`, as the hosted APIs send them) and answers plain
 * completions too. `reply` gives the pieces of each answer; a pause between them lets a test see the
 * answer arrive while it is written.
 */
export async function startStreamingOpenAi(
  reply: (req: StreamedChatRequest, n: number) => string[],
  o: { pauseMs?: number } = {},
) {
  const requests: StreamedChatRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const parsed = await chatCompletionRequest<StreamedChatRequest>(req, res);
    if (!parsed) return;
    requests.push(parsed);
    const pieces = reply(parsed, requests.length);
    const id = `chatcmpl-${requests.length}`;
    if (!parsed.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created: 1,
          model: parsed.model,
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: pieces.join('') } }],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (delta: Record<string, unknown>, finish: string | null) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: parsed.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    send({ role: 'assistant', content: '' }, null);
    for (const piece of pieces) {
      await new Promise((r) => setTimeout(r, o.pauseMs ?? 0));
      send({ content: piece }, null);
    }
    send({}, 'stop');
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
