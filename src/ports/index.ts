/** Every port: the interfaces through which the pure core and the driver reach the world. */
export * from './block-store.js';
export type * from './clock.js';
export type * from './consensus-driver.js';
export * from './log.js';
export type * from './mempool.js';
export type * from './safety-store.js';
export type * from './signer.js';
export * from './transport.js';
export type * from './verifier.js';
export * from './wal.js';
