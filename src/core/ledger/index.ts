export * from './errors.js';
export * from './params.js';
export * from './state.js';
export * from './sign-bytes.js';
export * from './apply.js';
export * from './results.js';
export * from './genesis.js';
export * from './app.js';
export { smtProve, smtVerify, smtRoot, type SmtProof } from './smt.js';
