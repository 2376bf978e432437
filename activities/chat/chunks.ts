import { type Db, MongoServerError } from 'mongodb';

/**
 * An answer as it is being written, one document per message (`_id`: the message's stream key, which the
 * API chooses before it sends the Update, so it can stream before the answer exists): the answering
 * activity sets the text so far after each chunk, and the API polls it by `_id` (a key lookup, cheap on
 * FerretDB) and sends what is new. A retried activity starts the text again under its attempt number;
 * a writer of an older attempt (a worker presumed dead) can no longer write over it.
 */
export interface ChatChunkDoc {
  _id: string;
  sessionId: string;
  attempt: number;
  text: string;
  done: boolean;
  at: Date;
}

/** The collection's name; no index beyond `_id` is needed. */
export const CHAT_CHUNKS = 'chat_chunks';

export class ChatChunks {
  constructor(private readonly db: Pick<Db, 'collection'>) {}

  private get c() {
    return this.db.collection<ChatChunkDoc>(CHAT_CHUNKS);
  }

  /** Writes the text so far; false when a later attempt owns the message (this writer should stop). */
  async write(key: string, sessionId: string, attempt: number, text: string, done = false): Promise<boolean> {
    try {
      const r = await this.c.updateOne(
        { _id: key, attempt: { $lte: attempt } },
        { $set: { sessionId, attempt, text, done, at: new Date() } },
        { upsert: true },
      );
      return r.matchedCount + r.upsertedCount > 0;
    } catch (err) {
      // The filter missed because a later attempt holds the document, and the upsert collided with it.
      if (err instanceof MongoServerError && err.code === 11000) return false;
      throw err;
    }
  }

  read(key: string): Promise<ChatChunkDoc | null> {
    return this.c.findOne({ _id: key });
  }

  /** Drops a session's chunks (its transcript is in the workflow; these only fed live streams). */
  async forget(keys: readonly string[]): Promise<void> {
    if (keys.length) await this.c.deleteMany({ _id: { $in: [...keys] } });
  }
}
