// Bootstrap of the state-sync chunk hashers (src/node/chunk-hashers.ts): loads the worker module, through tsx when
// the node runs from src/ (scripts without a build, vitest), as compiled JavaScript from dist/ otherwise.
import { workerData } from 'node:worker_threads';

if (workerData.tsx) (await import(workerData.tsx)).register(); // tsx's ESM hooks, in this thread
await import(workerData.module);
