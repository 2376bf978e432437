import { jobStoreContract } from '../test/support/jobStoreContract.js';
import { MemoryJobStore } from '../test/support/memoryStores.js';

jobStoreContract('in memory', () => new MemoryJobStore());
