/**
 * Prometheus metrics of one validator (prom-client), all under `pop_`. Names are part of the HTTP contract
 * (GET /metrics) and documented in the README. Each node owns its own Registry (tests create many).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface NodeMetrics {
  registry: Registry;
  height: Gauge;
  round: Gauge;
  roundsTotal: Counter;
  viewChangesTotal: Counter;
  blockIntervalSeconds: Histogram;
  commitLatencySeconds: Histogram;
  /** A committed height's latency by step (this node's view): proposal, prepare, commit (see createCommitObserver). */
  commitStepSeconds: Histogram<'step'>;
  finalityLatencySeconds: Histogram;
  proofsVerifiedTotal: Counter<'verdict'>;
  proofsFinalizedTotal: Counter<'verdict'>;
  verifierQueue: Gauge;
  mempoolSize: Gauge;
  mempoolBytes: Gauge;
  peers: Gauge;
  evidenceTotal: Counter;
  /** Height of the persisted state this run opened at (0: it started from genesis and re-applied every block). */
  stateResumedHeight: Gauge;
  /** Height of the newest persisted state. */
  stateSnapshotHeight: Gauge;
  /** Highest height the pruner went through (block bodies at or below it are gone, but for keep_every ones). */
  prunedHeight: Gauge;
  /** Bytes of each proposal this node sent: `compact` as it left (proofs by id), `full` what the whole block would have taken. */
  proposalWireBytes: Histogram<'form'>;
  /** Proof bodies fetched from peers for a proposal (`fetched`), refused from a peer (`refused`: not asked, or not its id), served to peers (`served`). */
  proofFetchTotal: Counter<'result'>;
  /** Received compact proposals: rebuilt from bodies held (`local`), after fetching (`fetched`), given up (`dropped`), refused once rebuilt (`invalid`). */
  proposalRebuildsTotal: Counter<'result'>;
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Fine below 0.5 s, where commit latency lives (the benchmark interpolates its p50 inside one bucket). */
/** From an empty block's few hundred bytes to a maximal 8 MiB one. */
const WIRE_BYTES_BUCKETS = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216];
const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10, 30];

/**
 * A fresh registry with every pop_ metric and prom-client's default process metrics.
 * @example const metrics = createNodeMetrics({ nodeId: 'node_1' }); metrics.height.set(12);
 */
export function createNodeMetrics(labels: { nodeId: string }, options: { defaultMetrics?: boolean } = {}): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: labels.nodeId });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: NodeMetrics = {
    registry,
    height: new Gauge({ name: 'pop_height', help: 'Height of the last committed block', registers }),
    round: new Gauge({ name: 'pop_round', help: 'Current consensus round (view) at the height being decided', registers }),
    roundsTotal: new Counter({ name: 'pop_rounds_total', help: 'Consensus rounds completed (committed blocks)', registers }),
    viewChangesTotal: new Counter({ name: 'pop_view_changes_total', help: 'Round changes after a timeout (view changes)', registers }),
    blockIntervalSeconds: new Histogram({ name: 'pop_block_interval_seconds', help: 'Time between consecutive commits', buckets: LATENCY_BUCKETS_SECONDS, registers }),
    commitLatencySeconds: new Histogram({ name: 'pop_commit_latency_seconds', help: 'From the start of a height to its commit', buckets: LATENCY_BUCKETS_SECONDS, registers }),
    commitStepSeconds: new Histogram({ name: 'pop_commit_step_seconds', help: 'A committed height by step: proposal (round 0 start to this node\'s prepare vote for the block), prepare (to its commit vote), commit (to the block stored)', labelNames: ['step'], buckets: LATENCY_BUCKETS_SECONDS, registers }),
    finalityLatencySeconds: new Histogram({ name: 'pop_finality_latency_seconds', help: 'From a proof accepted by this node to its final verdict', buckets: LATENCY_BUCKETS_SECONDS, registers }),
    proofsVerifiedTotal: new Counter({ name: 'pop_proofs_verified_total', help: 'Proofs this node verified, by verdict (abstain included)', labelNames: ['verdict'], registers }),
    proofsFinalizedTotal: new Counter({ name: 'pop_proofs_finalized_total', help: 'Proofs with a final verdict on chain, by verdict', labelNames: ['verdict'], registers }),
    verifierQueue: new Gauge({ name: 'pop_verifier_queue', help: 'Verification jobs waiting or running', registers }),
    mempoolSize: new Gauge({ name: 'pop_mempool_size', help: 'Proofs in the mempool', registers }),
    mempoolBytes: new Gauge({ name: 'pop_mempool_bytes', help: 'Bytes of proofs in the mempool', registers }),
    peers: new Gauge({ name: 'pop_peers', help: 'Connected validator peers', registers }),
    evidenceTotal: new Counter({ name: 'pop_evidence_total', help: 'Byzantine evidence (equivocations) detected or committed', registers }),
    stateResumedHeight: new Gauge({ name: 'pop_state_resumed_height', help: 'Height of the persisted state this run opened at (0: from genesis)', registers }),
    stateSnapshotHeight: new Gauge({ name: 'pop_state_snapshot_height', help: 'Height of the newest persisted state', registers }),
    prunedHeight: new Gauge({ name: 'pop_pruned_height', help: 'Highest height the pruner went through', registers }),
    proposalWireBytes: new Histogram({ name: 'pop_proposal_wire_bytes', help: 'Bytes of each proposal sent: compact (proofs by id, as sent) and full (the whole block, as before)', labelNames: ['form'], buckets: WIRE_BYTES_BUCKETS, registers }),
    proofFetchTotal: new Counter({ name: 'pop_proof_fetch_total', help: 'Proof bodies fetched from peers (fetched), refused from a peer (refused), served to peers (served)', labelNames: ['result'], registers }),
    proposalRebuildsTotal: new Counter({ name: 'pop_proposal_rebuilds_total', help: 'Compact proposals received: rebuilt from bodies held (local), after a fetch (fetched), given up (dropped), refused once rebuilt (invalid)', labelNames: ['result'], registers }),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
  return metrics;
}
