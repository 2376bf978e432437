import { defineQuery, defineUpdate } from '@temporalio/workflow';

// What the chat session workflow, its answering activity and the API share. Deterministic code only:
// the workflow bundle imports this file.

/** The workflow id of a session: one workflow per conversation, found again by its id. */
export const chatWorkflowId = (sessionId: string) => `chat-${sessionId}`;

/** The longest message a user may send, in characters: longer ones are refused before any workflow sees them. */
export const MAX_CHAT_MESSAGE_CHARS = 4_000;

/** The deterministic model: a templated answer from the analysis, offline. */
export const DETERMINISTIC_CHAT_MODEL = 'deterministic';

export interface ChatOptions {
  /** Task queue of the workers that answer (an LLM call may take minutes: kept apart from bookkeeping). */
  answerTaskQueue: string;
  /** One answer's bound, LLM call included. */
  answerTimeoutMs: number;
  /** A session that receives no message for this long ends; a later message resumes it from its transcript. */
  idleTimeoutMs: number;
  /** Messages kept in the transcript (user and assistant alike); older ones are dropped. */
  transcriptLimit: number;
  /** Messages a run handles before it continues as new, keeping its history short. */
  messagesPerRun: number;
}

export const DEFAULT_CHAT_OPTIONS: Omit<ChatOptions, 'answerTaskQueue'> = {
  answerTimeoutMs: 3 * 60_000,
  idleTimeoutMs: 60 * 60_000,
  transcriptLimit: 100,
  messagesPerRun: 50,
};

/** What an answer rests on: the analysis it cites and the prices it quotes (null: there was none). */
export interface ChatGrounding {
  analysis: {
    job_id: string;
    as_of: string;
    completed_at: string | null;
    decision: 'BUY' | 'SELL' | 'HOLD' | null;
    rating: string | null;
    confidence: number | null;
    close_at_analysis: number | null;
    target_price: number | null;
    fair_value: number | null;
    summary: string | null;
  } | null;
  prices: {
    last_date: string;
    last_close: number;
    /** Change over the sessions shown, in percent (null with a single bar). */
    change_pct: number | null;
    sessions: number;
    source: string | null;
  } | null;
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  /** ISO time: when the API received it (user) or the activity answered (assistant). */
  at: string;
  /** The ticker the answer was about (assistant messages). */
  ticker?: string | null;
  grounded_in?: ChatGrounding | null;
  model?: string;
}

export interface ChatSessionInput {
  sessionId: string;
  owner: string;
  options: ChatOptions;
  /** ISO time the session was first opened (kept across runs). */
  createdAt: string;
  /** The conversation so far, carried by continue-as-new or by a resumed session. */
  transcript?: ChatMessage[];
  /** Messages the user has sent in the whole session (the transcript may keep fewer). */
  turns?: number;
}

export interface ChatSessionResult {
  sessionId: string;
  owner: string;
  createdAt: string;
  transcript: ChatMessage[];
  turns: number;
  ended: 'idle';
}

export interface SendMessageArgs {
  message: string;
  /** `deterministic` or a configured LLM model id. */
  model: string;
  /** ISO time the API received the message (the workflow has no clock of its own to read). */
  sentAt: string;
  /** Where the answer's chunks are published while it is written (the API streams from there). */
  streamKey: string;
}

export interface ChatReply {
  sessionId: string;
  /** 1 for the session's first message. */
  turn: number;
  answer: string;
  ticker: string | null;
  grounded_in: ChatGrounding;
  model: string;
  answeredAt: string;
}

export interface ChatTranscript {
  sessionId: string;
  owner: string;
  createdAt: string;
  turns: number;
  /** `closing`: the run is ending (idle, or continuing as new); a message now is retried on the next run. */
  state: 'open' | 'closing';
  messages: ChatMessage[];
}

/** One user message; its result is the answer. Each is an Update: visible in the Web UI as it runs. */
export const sendMessageUpdate = defineUpdate<ChatReply, [SendMessageArgs]>('sendMessage');
export const transcriptQuery = defineQuery<ChatTranscript>('transcript');

/** The update validator's refusal when the run is ending: the API tries again, on the next run. */
export const SESSION_CLOSING = 'ChatSessionClosing';

/** What the answering activity is given. */
export interface ChatAnswerInput {
  sessionId: string;
  owner: string;
  message: string;
  model: string;
  streamKey: string;
  /** The recent conversation, oldest first, for follow-ups ("and its price?"). */
  history: ChatMessage[];
}

export interface ChatAnswer {
  answer: string;
  ticker: string | null;
  grounded_in: ChatGrounding;
  model: string;
  answeredAt: string;
}

export interface ChatActivities {
  answerChatMessage(input: ChatAnswerInput): Promise<ChatAnswer>;
}
