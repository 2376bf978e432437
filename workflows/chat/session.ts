import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import { WORKER_SILENCE_TIMEOUT } from '../definitions.js';
import { failureMessage, failureType } from '../failures.js';
import {
  type ChatActivities,
  type ChatMessage,
  type ChatReply,
  type ChatSessionInput,
  type ChatSessionResult,
  type ChatTranscript,
  MAX_CHAT_MESSAGE_CHARS,
  SESSION_CLOSING,
  sendMessageUpdate,
  transcriptQuery,
} from './contract.js';

/** Messages of the conversation the answering activity sees: enough for follow-ups, bounded in size. */
const HISTORY_FOR_ANSWER = 12;

/**
 * One chat session: each user message is an Update whose handler asks an activity for the answer and
 * returns it; the transcript lives here (queried by the API, visible in the Web UI) and so survives
 * worker and API restarts. Messages are answered one at a time, in the order they arrived. The run
 * continues as new after `messagesPerRun` messages, and the session ends after `idleTimeoutMs`
 * without one, returning its transcript so that a later message can resume it.
 */
export async function chatSessionWorkflow(input: ChatSessionInput): Promise<ChatSessionResult> {
  const { sessionId, owner, options } = input;
  const messages: ChatMessage[] = [...(input.transcript ?? [])];
  let turns = input.turns ?? 0;
  let handledThisRun = 0;
  let received = 0;
  let busy = false;
  let closing = false;

  const { answerChatMessage } = proxyActivities<ChatActivities>({
    taskQueue: options.answerTaskQueue,
    startToCloseTimeout: options.answerTimeoutMs,
    heartbeatTimeout: WORKER_SILENCE_TIMEOUT,
    retry: {
      initialInterval: '1s',
      maximumInterval: '10s',
      maximumAttempts: 3,
      nonRetryableErrorTypes: ['UnknownModel', 'AgentConfigurationError'],
    },
  });

  setHandler(
    transcriptQuery,
    (): ChatTranscript => ({
      sessionId,
      owner,
      createdAt: input.createdAt,
      turns,
      state: closing ? 'closing' : 'open',
      messages,
    }),
  );

  setHandler(
    sendMessageUpdate,
    async (req): Promise<ChatReply> => {
      received++;
      // One answer at a time: the second message of two sent together sees the first one's answer.
      await condition(() => !busy);
      busy = true;
      try {
        const turn = ++turns;
        const history = messages.slice(-HISTORY_FOR_ANSWER);
        let answer: Awaited<ReturnType<typeof answerChatMessage>>;
        try {
          answer = await answerChatMessage({
            sessionId,
            owner,
            message: req.message,
            model: req.model,
            streamKey: req.streamKey,
            history,
          });
        } catch (err) {
          turns--;
          // The update fails, not the session: the conversation goes on without this exchange.
          throw ApplicationFailure.create({
            type: 'ChatAnswerFailed',
            message: `no answer: ${failureMessage(err)}`,
            details: [failureType(err) ?? null],
            nonRetryable: true,
          });
        }
        messages.push(
          { role: 'user', content: req.message, at: req.sentAt },
          {
            role: 'assistant',
            content: answer.answer,
            at: answer.answeredAt,
            ticker: answer.ticker,
            grounded_in: answer.grounded_in,
            model: answer.model,
          },
        );
        if (messages.length > options.transcriptLimit) messages.splice(0, messages.length - options.transcriptLimit);
        // Decided here, not by the loop below: a message arriving before the loop next wakes is refused
        // (and sent to the next run), never taken by a run that is about to continue as new.
        if (++handledThisRun >= options.messagesPerRun) closing = true;
        return { sessionId, turn, ...answer };
      } finally {
        busy = false;
      }
    },
    {
      validator: (req) => {
        // Refused before it enters history: the API sends it again to the next run (or resumes the session).
        if (closing) throw ApplicationFailure.create({ type: SESSION_CLOSING, message: 'the session run is ending' });
        if (typeof req?.message !== 'string' || req.message.trim() === '') throw new Error('empty message');
        if (req.message.length > MAX_CHAT_MESSAGE_CHARS) throw new Error('message too long');
        if (typeof req.streamKey !== 'string' || req.streamKey === '') throw new Error('no stream key');
      },
    },
  );

  for (;;) {
    const seen = received;
    const active = await condition(() => received !== seen || closing, options.idleTimeoutMs);
    if (closing) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof chatSessionWorkflow>({ ...input, transcript: messages, turns });
    }
    if (!active && !busy) break;
  }
  closing = true;
  await condition(allHandlersFinished);
  return { sessionId, owner, createdAt: input.createdAt, transcript: messages, turns, ended: 'idle' };
}
