export * from './proof.js';
export * from './validator.js';
export * from './tx.js';
export * from './consensus.js';
