import { mkdir, open, stat } from 'node:fs/promises';
import { adminKeyPath } from '../../config/adminKeyFile.js';
import type { Accounts } from './accounts.js';
import { ADMIN_USER_ID } from './principal.js';

export type AdminBootstrap =
  | { created: true; key: string; file: string }
  | { created: false; file: string; fileExists: boolean };

/**
 * The first start creates the admin (id `local`, so jobs from before accounts are its own) and an admin
 * API key, kept in `<dataDir>/admin-api-key` (mode 0600). Later starts only say where the key is. Two
 * servers starting at once on one database create one admin: the user's `_id` is written once.
 */
export async function ensureAdmin(accounts: Accounts, dataDir: string): Promise<AdminBootstrap> {
  const file = adminKeyPath(dataDir);
  if (await accounts.store.user(ADMIN_USER_ID)) {
    return {
      created: false,
      file,
      fileExists: await stat(file).then(
        () => true,
        () => false,
      ),
    };
  }
  try {
    await accounts.createUser('admin@localhost', 'admin', ADMIN_USER_ID);
  } catch (err) {
    // Another server created it a moment ago.
    if ((err as { code?: string }).code === 'conflict' || (err as { code?: string }).code === 'email_taken') {
      return {
        created: false,
        file,
        fileExists: await stat(file).then(
          () => true,
          () => false,
        ),
      };
    }
    throw err;
  }
  const { key } = await accounts.createKey(ADMIN_USER_ID, {
    scopes: ['read', 'run', 'admin'],
    name: 'first-run admin key',
  });
  await mkdir(dataDir, { recursive: true });
  // Created with mode 0600 (never readable by others, not even for a moment), replacing a stale file.
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(`${key}\n`);
  } finally {
    await handle.close();
  }
  return { created: true, key, file };
}
