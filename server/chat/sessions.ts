import { type Db, MongoServerError } from 'mongodb';

/** Who owns a session: read on every request, so a stranger's session is a 404 without asking Temporal. */
export interface ChatSessionDoc {
  _id: string;
  owner: string;
  createdAt: Date;
}

export interface ChatSessionStore {
  /** Records a new session's owner; written before its workflow starts, so no session is ever without one. */
  create(sessionId: string, owner: string): Promise<void>;
  owner(sessionId: string): Promise<string | null>;
}

export class MongoChatSessions implements ChatSessionStore {
  constructor(private readonly db: Pick<Db, 'collection'>) {}

  private get c() {
    return this.db.collection<ChatSessionDoc>('chat_sessions');
  }

  async create(sessionId: string, owner: string): Promise<void> {
    try {
      await this.c.insertOne({ _id: sessionId, owner, createdAt: new Date() });
    } catch (err) {
      // Session ids are random UUIDs: a duplicate is this same call retried.
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
    }
  }

  async owner(sessionId: string): Promise<string | null> {
    return (await this.c.findOne({ _id: sessionId }))?.owner ?? null;
  }
}

/** For apps built without a database (the unit layer): sessions live as long as the process. */
export class MemoryChatSessions implements ChatSessionStore {
  private readonly owners = new Map<string, string>();

  async create(sessionId: string, owner: string): Promise<void> {
    if (!this.owners.has(sessionId)) this.owners.set(sessionId, owner);
  }

  async owner(sessionId: string): Promise<string | null> {
    return this.owners.get(sessionId) ?? null;
  }
}
