/** The node's error registry: why a validator refused to start or to take work. */

export type NodeErrorCode = 'NODE_NOT_IN_GENESIS' | 'NODE_KEY_MISMATCH' | 'NODE_Z3_MISMATCH' | 'NODE_HTTP_PORT' | 'NODE_CLOSED' | 'NODE_DATA_OTHER_CHAIN' | 'NODE_NOT_TESTNET' | 'NODE_STATE_MISSING';

/** A node error with a stable code (re-exported by node.ts). */
export class NodeError extends Error {
  constructor(
    readonly code: NodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NodeError';
  }
}
