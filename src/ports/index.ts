export type * from './clock.js';
export type * from './verifier.js';
export * from './log.js';
export type * from './safety-store.js';
