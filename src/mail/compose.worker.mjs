// Worker-thread bootstrap: the worker runs our TypeScript through tsx, as the main thread does.
import { register } from 'tsx/esm/api';

register();
await import('./compose.worker.ts');
