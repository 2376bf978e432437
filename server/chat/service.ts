import { randomUUID } from 'node:crypto';
import {
  type Client,
  WithStartWorkflowOperation,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdConflictPolicy, WorkflowNotFoundError } from '@temporalio/common';
import type { Logger } from 'pino';
import type { ChatChunkDoc } from '../../activities/chat/chunks.js';
import type { ModelRegistry } from '../../config/models.js';
import {
  type ChatMessage,
  type ChatOptions,
  type ChatReply,
  type ChatSessionInput,
  type ChatSessionResult,
  chatWorkflowId,
  DETERMINISTIC_CHAT_MODEL,
  SESSION_CLOSING,
  type SendMessageArgs,
  sendMessageUpdate,
  transcriptQuery,
} from '../../workflows/chat/contract.js';
import { chatSessionWorkflow } from '../../workflows/chat/session.js';
import { JOB_KIND, USER_ID } from '../../workflows/definitions.js';
import type { Principal } from '../auth/principal.js';
import { temporalDeadline } from '../deadline.js';
import { ApiError } from '../http/errors.js';
import { type ChatSessionStore, MemoryChatSessions } from './sessions.js';

/** Where the API reads an answer being written (activities/chat/chunks.ts); absent: streams get it whole. */
export interface ChatChunkReader {
  read(key: string): Promise<ChatChunkDoc | null>;
  forget(keys: readonly string[]): Promise<void>;
}

export interface ChatServiceDeps {
  temporal: Client;
  /** The task queue the session workflows run on (the orchestrator's). */
  taskQueue: string;
  options: ChatOptions;
  models: ModelRegistry;
  chunks?: ChatChunkReader;
  /** Who owns each session; in memory unless given (apps without a database). */
  sessions?: ChatSessionStore;
  logger: Logger;
}

/** Who asks: a session is its owner's, and anyone's for an admin. */
export type ChatViewer = Pick<Principal, 'admin' | 'userId'>;

/** A message a run has accepted; boxed, so that awaiting the delivery does not await the answer. */
interface Delivered {
  reply: Promise<ChatReply>;
}

/** A message on its way: the update is accepted, its answer still being written. */
export interface SentMessage {
  sessionId: string;
  streamKey: string;
  reply: Promise<ChatReply>;
}

export interface SessionView {
  sessionId: string;
  owner: string;
  createdAt: string;
  turns: number;
  state: 'open' | 'closing' | 'ended';
  messages: ChatMessage[];
}

/** A message sent while a run was ending is sent again after this, up to a few times. */
const CLOSING_RETRY_MS = 200;
const SEND_ATTEMPTS = 10;
/** The longest a session id may be: a UUID, with room for ids of older formats. */
export const MAX_SESSION_ID = 64;

/**
 * Chat sessions on Temporal: a session is a `chatSessionWorkflow` (id `chat-<session>`) and each message
 * an Update on it. The first message starts the workflow in the same call (update-with-start), so a
 * session never exists without its first message, nor a message without its session.
 */
export class ChatService {
  private readonly sessions: ChatSessionStore;

  constructor(private readonly d: ChatServiceDeps) {
    this.sessions = d.sessions ?? new MemoryChatSessions();
  }

  get chunks(): ChatChunkReader | undefined {
    return this.d.chunks;
  }

  /** The model a message names is one that can answer: the deterministic one or a configured LLM. */
  checkModel(model: string): void {
    if (model === DETERMINISTIC_CHAT_MODEL) return;
    if (this.d.models.get(model)?.kind !== 'llm') {
      const llms = this.d.models.list().flatMap((m) => (m.kind === 'llm' ? [m.id] : []));
      throw new ApiError('unknown_model', `${model} is not a chat model`, {
        available: [DETERMINISTIC_CHAT_MODEL, ...llms],
      });
    }
  }

  /**
   * Sends a message: to a new session without `sessionId`, else to that one (404 when it is not the
   * viewer's). A session that ended idle is resumed from its transcript under the same id.
   */
  async send(viewer: ChatViewer, message: string, model: string, sessionId?: string): Promise<SentMessage> {
    const streamKey = randomUUID();
    const args: SendMessageArgs = { message, model, sentAt: new Date().toISOString(), streamKey };
    if (!sessionId) {
      const id = randomUUID();
      await this.sessions.create(id, viewer.userId);
      const input: ChatSessionInput = {
        sessionId: id,
        owner: viewer.userId,
        options: this.d.options,
        createdAt: args.sentAt,
      };
      return { sessionId: id, streamKey, reply: this.replyOf(await this.deliver(id, input.owner, args, input)) };
    }
    const owner = await this.ownerOf(viewer, sessionId);
    return { sessionId, streamKey, reply: this.replyOf(await this.deliver(sessionId, owner, args)) };
  }

  /**
   * Delivers a message until a run accepts it: a new session's first run (`fresh`), the running one, or
   * an ended session resumed. A run that is ending refuses it (its validator, or it is gone by the time
   * the update lands): the message goes again, to the run after it. Resolves once accepted; the promise
   * inside settles with the answer.
   */
  private async deliver(
    sessionId: string,
    owner: string,
    args: SendMessageArgs,
    fresh?: ChatSessionInput,
    attempt = 1,
  ): Promise<Delivered> {
    const again = async (err: unknown) => {
      if (attempt >= SEND_ATTEMPTS || !(isClosing(err) || err instanceof WorkflowNotFoundError)) throw err;
      await new Promise((r) => setTimeout(r, CLOSING_RETRY_MS));
      return this.deliver(sessionId, owner, args, undefined, attempt + 1);
    };
    let update: WorkflowUpdateHandle<ChatReply>;
    try {
      update = fresh ? await this.startWith(fresh, args) : await this.toSession(sessionId, owner, args);
    } catch (err) {
      return again(err);
    }
    // A refusal by the validator (the run is ending) shows in the update's result, not in its start.
    const reply = update.result().catch(async (err: unknown) => (await again(err)).reply);
    return { reply };
  }

  /** The transcript: from the running session (a query), or from what an ended one returned. */
  async session(viewer: ChatViewer, sessionId: string): Promise<SessionView> {
    await this.ownerOf(viewer, sessionId);
    const handle = this.handle(sessionId);
    const desc = await temporalDeadline(this.d.temporal, () => handle.describe()).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError)
        throw new ApiError('not_found', `chat session ${sessionId} has no messages`);
      throw err;
    });
    if (desc.status.name === 'RUNNING') {
      const t = await temporalDeadline(this.d.temporal, () => handle.query(transcriptQuery));
      return { ...t, state: t.state };
    }
    const ended = await this.endedSession(handle, sessionId);
    return { ...ended, messages: ended.transcript, state: 'ended' };
  }

  /** The workflow's id for links to the Web UI. */
  workflowId(sessionId: string): string {
    return chatWorkflowId(sessionId);
  }

  private handle(sessionId: string): WorkflowHandle<typeof chatSessionWorkflow> {
    return this.d.temporal.workflow.getHandle<typeof chatSessionWorkflow>(chatWorkflowId(sessionId));
  }

  /** The session's owner, when the viewer may see it; anyone else's answers exactly like none. */
  private async ownerOf(viewer: ChatViewer, sessionId: string): Promise<string> {
    const owner = sessionId.length <= MAX_SESSION_ID ? await this.sessions.owner(sessionId) : null;
    if (!owner || !(viewer.admin || viewer.userId === owner)) {
      throw new ApiError('not_found', `no chat session ${sessionId.slice(0, MAX_SESSION_ID)}`);
    }
    return owner;
  }

  /** Sends to the running session, or resumes an ended one from its transcript. */
  private async toSession(sessionId: string, owner: string, args: SendMessageArgs) {
    const handle = this.handle(sessionId);
    const desc = await temporalDeadline(this.d.temporal, () => handle.describe()).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    });
    // Recorded but never started (the API stopped in between), or gone past Temporal's retention: afresh.
    if (!desc) return this.startWith({ sessionId, owner, options: this.d.options, createdAt: args.sentAt }, args);
    if (desc.status.name !== 'RUNNING') return this.startWith(await this.resumeInput(handle, sessionId, owner), args);
    return temporalDeadline(this.d.temporal, () =>
      handle.startUpdate(sendMessageUpdate, { args: [args], waitForStage: 'ACCEPTED', updateId: args.streamKey }),
    );
  }

  /** Starts the session's workflow with this message as its first Update, or sends it to the run already there. */
  private async startWith(input: ChatSessionInput, args: SendMessageArgs): Promise<WorkflowUpdateHandle<ChatReply>> {
    const start = new WithStartWorkflowOperation(chatSessionWorkflow, {
      workflowId: chatWorkflowId(input.sessionId),
      taskQueue: this.d.taskQueue,
      args: [input],
      // Two messages resuming one ended session at once: the second joins the run the first started.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      memo: { owner: input.owner, sessionId: input.sessionId },
      typedSearchAttributes: [
        { key: JOB_KIND, value: 'chat' },
        { key: USER_ID, value: input.owner },
      ],
      staticSummary: `chat session of ${input.owner}`,
    });
    return temporalDeadline(this.d.temporal, () =>
      this.d.temporal.workflow.startUpdateWithStart(sendMessageUpdate, {
        args: [args],
        waitForStage: 'ACCEPTED',
        updateId: args.streamKey,
        startWorkflowOperation: start,
      }),
    );
  }

  /** The reply once written; a failed answer is a 503 that says why, the session going on. */
  private replyOf(delivered: Delivered): Promise<ChatReply> {
    const reply = delivered.reply.catch((err: unknown) => {
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
      const message = cause instanceof Error ? cause.message : String(cause);
      this.d.logger.warn({ err: message }, 'chat: no answer');
      throw new ApiError('service_unavailable', `the model could not answer: ${message}`);
    });
    // Callers may stream first and await later: an early failure is not an unhandled rejection meanwhile.
    reply.catch(() => undefined);
    return reply;
  }

  /** The input of a resumed session: an ended run's transcript, carried into a new run under the same id. */
  private async resumeInput(
    handle: WorkflowHandle<typeof chatSessionWorkflow>,
    sessionId: string,
    owner: string,
  ): Promise<ChatSessionInput> {
    const ended = await this.endedSession(handle, sessionId);
    return {
      sessionId,
      owner,
      options: this.d.options,
      createdAt: ended.createdAt,
      transcript: ended.transcript,
      turns: ended.turns,
    };
  }

  private async endedSession(
    handle: WorkflowHandle<typeof chatSessionWorkflow>,
    sessionId: string,
  ): Promise<ChatSessionResult> {
    try {
      return await temporalDeadline(this.d.temporal, () => handle.result());
    } catch (err) {
      // Terminated or failed from outside (the Web UI, the CLI): its transcript is not to be had.
      this.d.logger.warn({ sessionId, err: (err as Error).message }, 'chat: session ended without a transcript');
      throw new ApiError('conflict', `chat session ${sessionId} was ended from Temporal; start a new one`);
    }
  }
}

/** The validator refused the message because the run is ending (idle, or continuing as new). */
function isClosing(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && e.type === SESSION_CLOSING) return true;
  }
  return false;
}
