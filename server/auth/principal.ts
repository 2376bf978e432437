import type { Scope } from '../../storage/accounts.js';

/** Who a request acts as, and what it may do. */
export interface Principal {
  /** The owner of everything the request creates, and whose resources it sees. */
  userId: string;
  via: 'api_key' | 'session' | 'trusted_network' | 'auth_off';
  scopes: ReadonlySet<Scope>;
  keyId?: string;
  /** Sees and manages every user's resources. */
  admin: boolean;
}

/** The bootstrap admin: jobs written before accounts existed (owner `local`) are its own. */
export const ADMIN_USER_ID = 'local';
