/** Error codes of the local-cluster module (src/cluster): one registry. */
export type ClusterErrorCode =
  | 'CLUSTER_GENESIS_FAILED'
  | 'CLUSTER_NODE_START_TIMEOUT'
  | 'CLUSTER_NODE_EXITED'
  | 'CLUSTER_ABORTED';

/** An operational failure of a local cluster: a genesis that could not be made, a validator that did not start. */
export class ClusterError extends Error {
  constructor(readonly code: ClusterErrorCode, message: string) {
    super(message);
    this.name = 'ClusterError';
  }
}
