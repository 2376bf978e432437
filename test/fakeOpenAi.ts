import { createServer, type IncomingMessage, type Server } from 'node:http';
import { chatCompletionRequest } from './support/chatRoute.js';

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content?: string | null; tool_calls?: unknown[]; tool_call_id?: string }>;
  tools?: unknown[];
}

export type Reply =
  | { status: number; body: unknown }
  | {
      content?: string;
      toolCalls?: Array<{ name: string; arguments: unknown }>;
      usage?: { prompt: number; completion: number };
    };

/**
 * An OpenAI-compatible chat endpoint on loopback, standing in for a hosted LLM (which cannot run here).
 * The real `openai` client talks to it over HTTP, so request shapes, tool calls and errors are real.
 */
export async function startFakeOpenAi(reply: (req: ChatRequest, n: number) => Reply | Promise<Reply>) {
  const requests: ChatRequest[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const parsed = await chatCompletionRequest<ChatRequest>(req, res);
    if (!parsed) return;
    requests.push(parsed);
    const r = await reply(parsed, requests.length);
    if ('status' in r) {
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.body));
      return;
    }
    const usage = r.usage ?? { prompt: 100, completion: 20 };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: 1,
        model: parsed.model,
        choices: [
          {
            index: 0,
            finish_reason: r.toolCalls?.length ? 'tool_calls' : 'stop',
            message: {
              role: 'assistant',
              content: r.content ?? null,
              ...(r.toolCalls?.length
                ? {
                    tool_calls: r.toolCalls.map((t, i) => ({
                      id: `call_${requests.length}_${i}`,
                      type: 'function',
                      function: { name: t.name, arguments: JSON.stringify(t.arguments) },
                    })),
                  }
                : {}),
            },
          },
        ],
        usage: {
          prompt_tokens: usage.prompt,
          completion_tokens: usage.completion,
          total_tokens: usage.prompt + usage.completion,
        },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
