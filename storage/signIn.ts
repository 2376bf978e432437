import type { Collection } from 'mongodb';

/** A sign-in code sent by email: only its hash is kept. */
export interface SignInCodeDoc {
  _id: string;
  email: string;
  hash: string;
  createdAt: Date;
  expiresAt: Date;
}

/** A server-side session, keyed by the SHA-256 of its cookie's token. */
export interface SessionDoc {
  _id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface SignInCollections {
  signInCodes: Collection<SignInCodeDoc>;
  /** Insert-once markers: a code's attempts and use, an address's code requests per hour. */
  signInSlots: Collection<{ _id: string; at: Date }>;
  sessions: Collection<SessionDoc>;
  /** Per user: sessions created before `at` are over ("sign out everywhere"). */
  sessionEpochs: Collection<{ _id: string; at: Date }>;
}

/**
 * Email codes and sessions. Counting (attempts, uses) is done by inserting markers with unique `_id`s:
 * FerretDB's conditional updates are not atomic, but a second insert of one `_id` always fails.
 */
export interface SignInStore {
  insertCode(doc: SignInCodeDoc): Promise<void>;
  code(id: string): Promise<SignInCodeDoc | null>;
  /** Takes the marker `id`; false when it was taken before. */
  claim(id: string): Promise<boolean>;
  insertSession(doc: SessionDoc): Promise<void>;
  session(hash: string): Promise<SessionDoc | null>;
  deleteSession(hash: string): Promise<void>;
  setEpoch(userId: string, at: Date): Promise<void>;
  epoch(userId: string): Promise<Date | null>;
}

const isDuplicate = (err: unknown) => (err as { code?: number }).code === 11000;

export class MongoSignIn implements SignInStore {
  constructor(private readonly c: SignInCollections) {}
  async insertCode(doc: SignInCodeDoc) {
    await this.c.signInCodes.insertOne(doc);
  }
  code(id: string) {
    return this.c.signInCodes.findOne({ _id: id });
  }
  async claim(id: string) {
    try {
      await this.c.signInSlots.insertOne({ _id: id, at: new Date() });
      return true;
    } catch (err) {
      if (isDuplicate(err)) return false;
      throw err;
    }
  }
  async insertSession(doc: SessionDoc) {
    await this.c.sessions.insertOne(doc);
  }
  session(hash: string) {
    return this.c.sessions.findOne({ _id: hash });
  }
  async deleteSession(hash: string) {
    await this.c.sessions.deleteOne({ _id: hash });
  }
  async setEpoch(userId: string, at: Date) {
    await this.c.sessionEpochs.updateOne({ _id: userId }, { $set: { at } }, { upsert: true });
  }
  async epoch(userId: string) {
    return (await this.c.sessionEpochs.findOne({ _id: userId }))?.at ?? null;
  }
}

export class MemorySignIn implements SignInStore {
  readonly codes = new Map<string, SignInCodeDoc>();
  readonly slots = new Set<string>();
  readonly sessions = new Map<string, SessionDoc>();
  readonly epochs = new Map<string, Date>();
  async insertCode(doc: SignInCodeDoc) {
    this.codes.set(doc._id, structuredClone(doc));
  }
  async code(id: string) {
    const d = this.codes.get(id);
    return d ? structuredClone(d) : null;
  }
  async claim(id: string) {
    if (this.slots.has(id)) return false;
    this.slots.add(id);
    return true;
  }
  async insertSession(doc: SessionDoc) {
    this.sessions.set(doc._id, structuredClone(doc));
  }
  async session(hash: string) {
    const d = this.sessions.get(hash);
    return d ? structuredClone(d) : null;
  }
  async deleteSession(hash: string) {
    this.sessions.delete(hash);
  }
  async setEpoch(userId: string, at: Date) {
    this.epochs.set(userId, at);
  }
  async epoch(userId: string) {
    return this.epochs.get(userId) ?? null;
  }
}
