/** The monitor's public surface (data layer, snapshot, text rendering). */
export * from './contract.js';
export * from './snapshot.js';
export * from './poll.js';
export * from './render.js';
