import { describe } from 'vitest';
import { ledgerEndContract } from './ledgerEndContract.js';
import { MemoryTradingDays } from './memoryStores.js';

describe('the ledger end over the in-memory store', () => {
  ledgerEndContract(async () => ({ days: new MemoryTradingDays(), prefix: '' }));
});
