import type { Collection } from 'mongodb';

export const SCOPES = ['read', 'run', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export type Role = 'admin' | 'user';

export interface UserDoc {
  _id: string;
  email: string;
  role: Role;
  createdAt: Date;
  disabled?: boolean;
}

/** An address taken by a user: written once, so two users never share an address (FerretDB has no unique index we could trust for it but `_id`). */
export interface UserEmailDoc {
  _id: string;
  userId: string;
}

/**
 * An API key, keyed by the SHA-256 of the key itself: authenticating is one `_id` look-up, and the key is
 * never stored. `keyId` names it in lists and revocations.
 */
export interface ApiKeyDoc {
  _id: string;
  keyId: string;
  userId: string;
  scopes: Scope[];
  name?: string;
  /** The key's first characters (`tf_` and four more), so a person can tell their keys apart. */
  prefix: string;
  createdAt: Date;
  expiresAt?: Date;
  revokedAt?: Date;
  lastUsedAt?: Date;
}

export interface AccountCollections {
  users: Collection<UserDoc>;
  userEmails: Collection<UserEmailDoc>;
  apiKeys: Collection<ApiKeyDoc>;
}

/** Users and their API keys. Every write is an insert of a new `_id`, a blind `$set` or a delete: none needs an atomic conditional update. */
export interface AccountStore {
  /** Creates the user unless its address is taken. */
  insertUser(user: UserDoc): Promise<'created' | 'email_taken' | 'id_taken'>;
  user(userId: string): Promise<UserDoc | null>;
  userByEmail(email: string): Promise<UserDoc | null>;
  users(): Promise<UserDoc[]>;
  setDisabled(userId: string, disabled: boolean): Promise<boolean>;
  /** Deletes the user, its address and its keys; returns whether the user existed. */
  deleteUser(userId: string): Promise<boolean>;
  insertKey(key: ApiKeyDoc): Promise<void>;
  keyByHash(hash: string): Promise<ApiKeyDoc | null>;
  keys(userId: string): Promise<ApiKeyDoc[]>;
  /** Marks the user's key revoked; false when the user has no such key. */
  revokeKey(userId: string, keyId: string, at: Date): Promise<boolean>;
  /** Records a use (a blind write: the latest writer wins, which is what "last used" means). */
  touchKey(hash: string, at: Date): Promise<void>;
}

const isDuplicate = (err: unknown) => (err as { code?: number }).code === 11000;

export class MongoAccounts implements AccountStore {
  constructor(private readonly c: AccountCollections) {}

  async insertUser(user: UserDoc): Promise<'created' | 'email_taken' | 'id_taken'> {
    if (await this.c.users.findOne({ _id: user._id })) return 'id_taken';
    try {
      await this.c.userEmails.insertOne({ _id: user.email, userId: user._id });
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      // An address left behind by a creation that died before its user was written is free again.
      const holder = await this.c.userEmails.findOne({ _id: user.email });
      if (holder && (await this.c.users.findOne({ _id: holder.userId }))) return 'email_taken';
      await this.c.userEmails.deleteOne({ _id: user.email });
      return this.insertUser(user);
    }
    try {
      await this.c.users.insertOne(user);
    } catch (err) {
      await this.c.userEmails.deleteOne({ _id: user.email });
      if (isDuplicate(err)) return 'id_taken';
      throw err;
    }
    return 'created';
  }

  user(userId: string) {
    return this.c.users.findOne({ _id: userId });
  }

  async userByEmail(email: string) {
    const holder = await this.c.userEmails.findOne({ _id: email });
    return holder ? this.c.users.findOne({ _id: holder.userId }) : null;
  }

  users() {
    return this.c.users.find({}).sort({ createdAt: 1 }).toArray();
  }

  async setDisabled(userId: string, disabled: boolean) {
    const r = await this.c.users.updateOne({ _id: userId }, { $set: { disabled } });
    return r.matchedCount > 0;
  }

  async deleteUser(userId: string) {
    const user = await this.c.users.findOne({ _id: userId });
    if (!user) return false;
    // The user first: from that moment none of its keys authenticates, whatever is left of them.
    await this.c.users.deleteOne({ _id: userId });
    await this.c.userEmails.deleteOne({ _id: user.email });
    await this.c.apiKeys.deleteMany({ userId });
    return true;
  }

  async insertKey(key: ApiKeyDoc) {
    await this.c.apiKeys.insertOne(key);
  }

  keyByHash(hash: string) {
    return this.c.apiKeys.findOne({ _id: hash });
  }

  keys(userId: string) {
    return this.c.apiKeys.find({ userId }).sort({ createdAt: 1 }).toArray();
  }

  async revokeKey(userId: string, keyId: string, at: Date) {
    const key = await this.c.apiKeys.findOne({ userId, keyId });
    if (!key) return false;
    if (!key.revokedAt) await this.c.apiKeys.updateOne({ _id: key._id }, { $set: { revokedAt: at } });
    return true;
  }

  async touchKey(hash: string, at: Date) {
    await this.c.apiKeys.updateOne({ _id: hash }, { $set: { lastUsedAt: at } });
  }
}

/** The same over maps, for unit tests that start nothing. */
export class MemoryAccounts implements AccountStore {
  readonly usersById = new Map<string, UserDoc>();
  readonly keysByHash = new Map<string, ApiKeyDoc>();

  async insertUser(user: UserDoc) {
    if (this.usersById.has(user._id)) return 'id_taken' as const;
    if ([...this.usersById.values()].some((u) => u.email === user.email)) return 'email_taken' as const;
    this.usersById.set(user._id, structuredClone(user));
    return 'created' as const;
  }
  async user(userId: string) {
    const u = this.usersById.get(userId);
    return u ? structuredClone(u) : null;
  }
  async userByEmail(email: string) {
    const u = [...this.usersById.values()].find((x) => x.email === email);
    return u ? structuredClone(u) : null;
  }
  async users() {
    return [...this.usersById.values()].map((u) => structuredClone(u));
  }
  async setDisabled(userId: string, disabled: boolean) {
    const u = this.usersById.get(userId);
    if (u) u.disabled = disabled;
    return u !== undefined;
  }
  async deleteUser(userId: string) {
    const existed = this.usersById.delete(userId);
    for (const [h, k] of this.keysByHash) if (k.userId === userId) this.keysByHash.delete(h);
    return existed;
  }
  async insertKey(key: ApiKeyDoc) {
    this.keysByHash.set(key._id, structuredClone(key));
  }
  async keyByHash(hash: string) {
    const k = this.keysByHash.get(hash);
    return k ? structuredClone(k) : null;
  }
  async keys(userId: string) {
    return [...this.keysByHash.values()].filter((k) => k.userId === userId).map((k) => structuredClone(k));
  }
  async revokeKey(userId: string, keyId: string, at: Date) {
    const k = [...this.keysByHash.values()].find((x) => x.userId === userId && x.keyId === keyId);
    if (k && !k.revokedAt) k.revokedAt = at;
    return k !== undefined;
  }
  async touchKey(hash: string, at: Date) {
    const k = this.keysByHash.get(hash);
    if (k) k.lastUsedAt = at;
  }
}
