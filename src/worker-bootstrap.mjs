// Worker-thread bootstrap under tsx (tests, npm run admit): registers tsx, then loads the worker's
// TypeScript source named by workerData.entry (src/threads.ts). Compiled runs start the .js directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
