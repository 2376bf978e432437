import type { Collection } from 'mongodb';

/** A sign-in code sent by email: only its hash is kept. */
export interface SignInCodeDoc {
  _id: string;
  email: string;
  hash: string;
  createdAt: Date;
  expiresAt: Date;
}

/** How a session was opened. */
export type SignInMethod = 'email' | 'google' | 'github';

/** A server-side session, keyed by the SHA-256 of its cookie's token. */
export interface SessionDoc {
  _id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  /** Absent on sessions opened before sign-in had more than one way. */
  via?: SignInMethod;
}

/**
 * A sign-in begun at an OAuth provider, keyed by the SHA-256 of its `state`: the PKCE verifier and the
 * nonce stay here, never in the browser.
 */
export interface OAuthStateDoc {
  _id: string;
  provider: 'google' | 'github';
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
  returnTo: string;
  createdAt: Date;
  expiresAt: Date;
}

/** An account at a provider (`provider|subject`) and the user it signs in as. */
export interface IdentityDoc {
  _id: string;
  userId: string;
  email: string;
  createdAt: Date;
}

export interface SignInCollections {
  signInCodes: Collection<SignInCodeDoc>;
  /** Insert-once markers: a code's attempts and use, an address's code requests per hour. */
  signInSlots: Collection<{ _id: string; at: Date }>;
  sessions: Collection<SessionDoc>;
  /** Per user: sessions created before `at` are over ("sign out everywhere"). */
  sessionEpochs: Collection<{ _id: string; at: Date }>;
  oauthStates: Collection<OAuthStateDoc>;
  identities: Collection<IdentityDoc>;
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
  /** A user's sessions that have not expired, newest first. */
  sessionsOf(userId: string, now: Date): Promise<SessionDoc[]>;
  setEpoch(userId: string, at: Date): Promise<void>;
  epoch(userId: string): Promise<Date | null>;
  insertOAuthState(doc: OAuthStateDoc): Promise<void>;
  oauthState(hash: string): Promise<OAuthStateDoc | null>;
  /** Links a provider's account to a user once; a second link of the same account keeps the first. */
  insertIdentity(doc: IdentityDoc): Promise<IdentityDoc>;
  identity(id: string): Promise<IdentityDoc | null>;
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
  sessionsOf(userId: string, now: Date) {
    return this.c.sessions
      .find({ userId, expiresAt: { $gt: now } })
      .sort({ createdAt: -1 })
      .limit(1000)
      .toArray();
  }
  async setEpoch(userId: string, at: Date) {
    await this.c.sessionEpochs.updateOne({ _id: userId }, { $set: { at } }, { upsert: true });
  }
  async epoch(userId: string) {
    return (await this.c.sessionEpochs.findOne({ _id: userId }))?.at ?? null;
  }
  async insertOAuthState(doc: OAuthStateDoc) {
    await this.c.oauthStates.insertOne(doc);
  }
  oauthState(hash: string) {
    return this.c.oauthStates.findOne({ _id: hash });
  }
  async insertIdentity(doc: IdentityDoc) {
    try {
      await this.c.identities.insertOne(doc);
      return doc;
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      const first = await this.c.identities.findOne({ _id: doc._id });
      if (!first) throw err;
      return first;
    }
  }
  identity(id: string) {
    return this.c.identities.findOne({ _id: id });
  }
}

export class MemorySignIn implements SignInStore {
  readonly codes = new Map<string, SignInCodeDoc>();
  readonly slots = new Set<string>();
  readonly sessions = new Map<string, SessionDoc>();
  readonly epochs = new Map<string, Date>();
  readonly oauthStates = new Map<string, OAuthStateDoc>();
  readonly identities = new Map<string, IdentityDoc>();
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
  async sessionsOf(userId: string, now: Date) {
    return [...this.sessions.values()]
      .filter((d) => d.userId === userId && d.expiresAt.getTime() > now.getTime())
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((d) => structuredClone(d));
  }
  async setEpoch(userId: string, at: Date) {
    this.epochs.set(userId, at);
  }
  async epoch(userId: string) {
    return this.epochs.get(userId) ?? null;
  }
  async insertOAuthState(doc: OAuthStateDoc) {
    this.oauthStates.set(doc._id, structuredClone(doc));
  }
  async oauthState(hash: string) {
    const d = this.oauthStates.get(hash);
    return d ? structuredClone(d) : null;
  }
  async insertIdentity(doc: IdentityDoc) {
    const first = this.identities.get(doc._id);
    if (first) return structuredClone(first);
    this.identities.set(doc._id, structuredClone(doc));
    return structuredClone(doc);
  }
  async identity(id: string) {
    const d = this.identities.get(id);
    return d ? structuredClone(d) : null;
  }
}
