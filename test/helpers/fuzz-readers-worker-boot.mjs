// Worker entry in plain JS: registers tsx's loader in this thread, then runs the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./fuzz-readers-worker.ts', import.meta.url).href);
