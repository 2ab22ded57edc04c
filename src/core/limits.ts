/**
 * Every bound in the system, in one place. Units last (`Bytes`, `Ms`, `Count`).
 * Network-wide limits that every validator must apply identically are also recorded in
 * the genesis parameters (see src/core/ledger); the values here are the defaults and the
 * hard ceilings a genesis may not exceed.
 */

// --- Proofs (network parameters; admission at the door) ---
export const PROOF_SCRIPT_BYTES_MAX = 256 * 1024;
export const PROOF_MODEL_BYTES_MAX = 64 * 1024;
/** Deepest nesting in the shared corpus is 514 (cvc5 hash_sat_*): 1024 admits real benchmarks; Z3 parsed 1M in 6 s. */
export const SEXPR_DEPTH_MAX = 1024;
export const SEXPR_TOKENS_MAX = 200_000;
/** Also bounds numerals and |quoted symbols| (the corpus has 1,453-character ones). */
export const SYMBOL_BYTES_MAX = 4096;
export const BITVECTOR_WIDTH_MAX = 512;
export const COMMANDS_MAX = 20_000;
/** Default and ceiling of the deterministic Z3 resource budget (rlimit) per proof. */
export const PROOF_RLIMIT_DEFAULT = 5_000_000;
export const PROOF_RLIMIT_MAX = 50_000_000;
/**
 * Ceilings of the proof-fee parameters (src/core/ledger/fees.ts): PROOF_RLIMIT_MAX * PROOF_FEE_PER_MRLIMIT_MAX stays
 * below 2^53, so a fee is exact integer arithmetic in every validator.
 */
export const PROOF_FEE_PER_MRLIMIT_MAX = 100_000_000;
export const PROOF_FEE_MAX = 1e12;

// --- Verifier pool (node-local protection, never part of a verdict) ---
export const VERIFIER_QUEUE_MAX = 1024;
/**
 * Budget classes of the verifier's queue (rlimit upper bounds; the last class is everything above): the cheapest
 * non-empty class is served first (src/core/pool/budget-queue.ts).
 */
export const VERIFIER_BUDGET_CLASS_BOUNDS: readonly number[] = [1_000_000, 10_000_000];
/**
 * Workers a pool of at least two keeps from the most expensive budget class: a client that sends proofs at the
 * largest rlimit (each may hold a worker up to the watchdog) cannot occupy every worker, so a cheaper proof waits
 * for at most a cheaper running job (src/adapters/z3/pool-verifier.ts).
 */
export const VERIFIER_LANES_FREE_OF_TOP_CLASS = 1;
/**
 * The OS priority (nice, 0..19) of each Z3 worker thread and of the threads Z3 starts from it, on Linux, where a
 * thread's nice value is its own: verification takes the CPU the consensus thread leaves, so a flood of proofs
 * slows verdicts, not blocks. Results do not depend on it (the budget is rlimit, not time).
 */
export const VERIFIER_WORKER_NICE = 10;
/** Every this many jobs started, the oldest waiting job of any class goes first (expensive proofs still progress). */
export const VERIFIER_AGEING_EVERY = 4;
export const VERIFIER_CACHE_ENTRIES_MAX = 10_000;
/**
 * Consensus signatures a node remembers as checked (src/crypto/caching-verifier.ts; about 0.4 KB each): four rounds
 * of votes of a full set (VALIDATORS_MAX), so the commit votes in the next proposal's last commit are not checked again.
 */
export const SIGNATURE_CACHE_ENTRIES_MAX = 8192;
/**
 * Ledger signatures a node remembers as checked (proof payments, attestations, evidence; about 0.4 KB each): one
 * checked at the door (mempool, attest pool) is not checked again when a block holding it is prepared, validated and
 * applied. Twice the most proofs a mempool holds; past it the cache starts over (only hits are lost). Its own cache,
 * so a flood of payments cannot push consensus votes out of SIGNATURE_CACHE_ENTRIES_MAX.
 */
export const LEDGER_SIGNATURE_CACHE_ENTRIES_MAX = 20_000;
/** Wall-clock guard: its firing means "abstain", never a verdict. */
export const VERIFIER_WATCHDOG_MS = 60_000;
export const VERIFIER_WORKER_RSS_BYTES_MAX = 1536 * 1024 * 1024;

// --- Consensus ---
export const VALIDATORS_MAX = 1024;
export const BLOCK_TXS_MAX = 2048;
export const BLOCK_BYTES_MAX = 8 * 1024 * 1024;
/**
 * Ceiling of the genesis `block_rlimit_max` (the sum of a block's proofs' rlimit): a full block of proofs at the
 * largest budget. Below 2^53, so the sum is exact in every validator.
 */
export const BLOCK_RLIMIT_BUDGET_MAX = BLOCK_TXS_MAX * PROOF_RLIMIT_MAX;
export const MESSAGE_BYTES_MAX = 10 * 1024 * 1024;
export const ROUND_MAX = 1_000_000;
export const EVIDENCE_PER_BLOCK_MAX = 64;

// --- Simulator ---
/** Prepare tallies the simulator's lock checker keeps before it forgets those below every honest validator's height. */
export const SIM_PREPARES_TRACKED_MAX = 4096;
/** The simulator's flooder sends a burst of junk every this many simulated ms. */
export const SIM_FLOOD_TICK_MS = 100;
/** Junk messages a flooder sends each other validator per simulated second in a sweep (tests may raise it). */
export const SIM_FLOOD_MESSAGES_PER_SECOND = 100;
/** How long the simulator's body swapper stays silent after a height in which it swapped a body (longer than a sweep's liveness bound). */
export const SIM_BODY_SWAP_SILENCE_MS = 30_000;
/** Proofs one simulated verifier keeps queued (the cost model, src/sim/verify-queue.ts); more are refused and counted. */
export const SIM_VERIFY_QUEUE_MAX = 10_000;
/** Proofs per simulated second the capacity workload's client may offer (src/sim/capacity.ts). */
export const SIM_LOAD_PROOFS_PER_SECOND_MAX = 10_000;

// --- Mempool and API ---
export const MEMPOOL_PROOFS_MAX = 10_000;
/**
 * With a block budget (genesis block_rlimit_max), the mempool holds at most this many blocks of it (the sum of its
 * entries' budgets): deeper, a proof would wait that many blocks anyway, so the door refuses the cheapest instead of
 * admitting, storing and gossiping them to every node (issue 11, the flood).
 */
export const MEMPOOL_BACKLOG_BLOCKS = 64;
/**
 * Proposer backpressure (node-local policy, not a validity rule; issue 11, the flood): with a block budget (genesis
 * block_rlimit_max), an honest proposer fills a block's proofs only up to this many blocks of budget less what
 * already waits in its own verifier (`waitingBudget`, running jobs excluded), and always takes at least its
 * best-paying proof. Blocks then carry what the verifiers drain, however often they come, and a flood waits in the
 * fee-ranked, bounded, evicting mempool instead of in every validator's verifier queue, where each proof is already
 * owed work (src/core/pool/candidates.ts).
 */
export const PROPOSER_VERIFY_BACKLOG_BLOCKS = 1;
export const MEMPOOL_BYTES_MAX = 256 * 1024 * 1024;
/**
 * Mempool entries a proposer looks at when it takes proofs for a block: an entry that does not fit in the bytes
 * left is skipped, not a stop, so this bounds the scan instead.
 */
export const MEMPOOL_TAKE_SCAN_MAX = 4 * BLOCK_TXS_MAX;
/**
 * A proof not included within this long after it was accepted leaves the mempool (CometBFT's mempool TTL, by time):
 * GET /proofs/:id then answers `expired`. Time, not heights, because the accepted-at time is what a node keeps of
 * a pending proof across a restart (wall clock), so a proof already expired is not reloaded.
 */
export const MEMPOOL_PROOF_TTL_MS = 30 * 60_000;
export const HTTP_BODY_BYTES_MAX = 512 * 1024;
/** HTTP request header bytes (node's maxHeaderSize). */
export const HTTP_HEADER_BYTES_MAX = 16 * 1024;
/** Open HTTP client connections per node; more are closed on accept. */
export const HTTP_CONNECTIONS_MAX = 512;
/** A whole HTTP request (headers and body) must arrive within this. */
export const HTTP_REQUEST_TIMEOUT_MS = 30_000;
/** HTTP request headers must arrive within this (slowloris). */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000;
export const PEERS_MAX = 64;
/**
 * Per-client (IP address) token bucket on POST /proofs and POST /txs, shared by both: the fee is 0 on every
 * network today, so this is what makes spam cost something. A client may send a burst, then this many per second.
 */
export const API_CLIENT_SUBMITS_PER_SECOND = 20;
export const API_CLIENT_BURST_COUNT = 100;
/**
 * Per-client (IP address) read budget on the GET routes that read the chain or the state (blocks, proofs, txs,
 * accounts, validators, status, peers, genesis), in bytes answered: a request is refused (429 CLIENT_RATE_LIMITED,
 * Retry-After) while its client's bucket holds less than one unit, and is charged its answer's bytes after it is
 * sent (at least one unit), so a client that reads 8 MiB blocks in a loop is held to this rate however large each
 * answer is. /health, /metrics and /openapi.json are not counted.
 */
export const API_CLIENT_READ_BYTES_PER_SECOND = 16 * 1024 * 1024;
export const API_CLIENT_READ_BURST_BYTES = 64 * 1024 * 1024;
/** The read budget's unit, and the least a read is charged. */
export const API_CLIENT_READ_UNIT_BYTES = 1024;
/**
 * Encoded GET /blocks/:h answers a node keeps, in bytes: a committed block never changes, so a block read again is
 * sent from here without a store read, a parse or an encoding on the thread that runs consensus.
 */
export const API_BLOCK_CACHE_BYTES_MAX = 16 * 1024 * 1024;
/** Headers with their certificates a node keeps for receipts (GET /proofs/:id of a final proof). */
export const API_HEADER_CACHE_COUNT_MAX = 1024;
/** Client addresses whose bucket a node remembers; past this the least recently seen is forgotten. */
export const API_CLIENTS_TRACKED_MAX = 10_000;
/**
 * POST /proofs/batch: at most this many proofs in one request, and its own body limit (the single-proof route keeps
 * HTTP_BODY_BYTES_MAX). Each proof costs one token of the per-client bucket, as it would on POST /proofs.
 */
export const API_PROOF_BATCH_MAX = 256;
export const HTTP_PROOF_BATCH_BODY_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Batch requests a node reads and handles at once (Elasticsearch's bounded bulk queue): past it, 429 BATCH_BUSY
 * before the body is read, so open connections cannot hold more than this many 4 MiB bodies in memory.
 */
export const API_PROOF_BATCHES_IN_FLIGHT_MAX = 8;
/**
 * Proofs travel between validators in `gossip-proofs` frames: the intake holds accepted proofs for this long on the
 * injected clock (the first one arms the flush), or until a frame would pass the count or the bytes (JSON) bound.
 */
export const PROOF_GOSSIP_FLUSH_DELAY_MS = 5;
export const PROOF_GOSSIP_BATCH_COUNT_MAX = 256;
export const PROOF_GOSSIP_BATCH_BYTES_MAX = 4 * 1024 * 1024;
/** JSON escapes a character in at most 6 bytes (\u00XX): the most a proof of the byte limits takes in a frame. */
export const PROOF_JSON_BYTES_MAX = 6 * (PROOF_SCRIPT_BYTES_MAX + PROOF_MODEL_BYTES_MAX) + 1024;
/**
 * Compact proposals (src/node/proposal-dissemination.ts): a proposal names its proofs by id; a validator missing
 * bodies asks the proposal's sender (then the other peers) with `proof-fetch`, at most PROOF_FETCH_IDS_MAX ids a
 * request, answered by `proof-bodies` of at most PROOF_FETCH_RESPONSE_BYTES_MAX bytes of JSON (the asker asks
 * again for what was left out). Each peer gets PROOF_FETCH_TIMEOUT_MS to answer before the next is asked.
 */
export const PROOF_FETCH_IDS_MAX = BLOCK_TXS_MAX;
export const PROOF_FETCH_RESPONSE_BYTES_MAX = 4 * 1024 * 1024;
export const PROOF_FETCH_TIMEOUT_MS = 500;
/**
 * Proposals waiting for bodies: at most this many at once, PROOF_REBUILDS_PER_SENDER_MAX per sender, their
 * fetched bodies at most PROOF_REBUILD_BYTES_MAX bytes together (one at most BLOCK_BYTES_MAX), each dropped after
 * PROOF_REBUILD_TTL_MS (consensus then times out and prevotes nil, as for a proposal that never came).
 */
export const PROOF_REBUILDS_PENDING_MAX = 8;
export const PROOF_REBUILDS_PER_SENDER_MAX = 2;
export const PROOF_REBUILD_BYTES_MAX = 2 * BLOCK_BYTES_MAX;
export const PROOF_REBUILD_TTL_MS = 4_000;
/** Serving fetches: per peer and second at most this many requests answered and this many bytes of bodies (more are dropped). */
export const PROOF_FETCH_SERVES_PER_PEER_PER_SEC = 16;
export const PROOF_FETCH_SERVE_BYTES_PER_PEER_PER_SEC = 2 * BLOCK_BYTES_MAX;
/**
 * Bodies of proposals recently sent or rebuilt, kept to rebuild a re-proposal and to serve peers after the mempool
 * let them go at commit: at most this many, this many bytes (oldest out first).
 */
export const PROOF_RECENT_BODIES_COUNT_MAX = 2 * BLOCK_TXS_MAX;
export const PROOF_RECENT_BODIES_BYTES_MAX = 2 * BLOCK_BYTES_MAX;
/**
 * The web explorer (GET /, src/api/explorer.ts): how often the page polls the node's JSON routes, how many latest
 * blocks it lists, and how many blocks after a proof's own it reads to show who attested what (GETs, which the
 * per-client bucket does not count; a default verdict window is 150 blocks). The page receives them from the node.
 */
export const EXPLORER_POLL_MS = 2_000;
export const EXPLORER_BLOCKS_LISTED_COUNT = 10;
export const EXPLORER_ATTEST_SCAN_BLOCKS_MAX = 200;
/** The explorer calls a validator `signing` when its signature is in one of this many latest certificates. */
export const EXPLORER_SIGNING_RECENT_BLOCKS = 5;

// --- Identifiers ---
export const NODE_ID_BYTES_MAX = 64;
export const CHAIN_ID_BYTES_MAX = 64;

function assertLimit(condition: boolean, what: string): void {
  if (!condition) throw new Error(`limits.ts: ${what}`);
}

assertLimit(PROOF_RLIMIT_DEFAULT <= PROOF_RLIMIT_MAX, 'default rlimit above the cap');
assertLimit(BLOCK_RLIMIT_BUDGET_MAX <= Number.MAX_SAFE_INTEGER, 'a block\'s rlimit sum is exact in integers');
assertLimit(PROOF_SCRIPT_BYTES_MAX + PROOF_MODEL_BYTES_MAX < HTTP_BODY_BYTES_MAX, 'a maximal proof must fit in an HTTP body');
assertLimit(HTTP_BODY_BYTES_MAX < MESSAGE_BYTES_MAX, 'a maximal proof must fit in a peer message');
assertLimit(BLOCK_BYTES_MAX < MESSAGE_BYTES_MAX, 'a maximal block must fit in a peer message');
assertLimit(PROOF_RLIMIT_MAX * PROOF_FEE_PER_MRLIMIT_MAX + 1_000_000 <= Number.MAX_SAFE_INTEGER, 'a proof fee is computed in exact integers');
assertLimit(PROOF_SCRIPT_BYTES_MAX <= MEMPOOL_BYTES_MAX, 'mempool must hold one maximal proof');
assertLimit(API_CLIENT_BURST_COUNT >= API_CLIENT_SUBMITS_PER_SECOND, 'a client may send at least one second of its rate at once');
assertLimit(API_CLIENT_READ_BURST_BYTES >= 2 * BLOCK_BYTES_MAX, 'a client may read two maximal blocks at once');
assertLimit(API_CLIENT_READ_BYTES_PER_SECOND >= API_CLIENT_READ_UNIT_BYTES, 'a client may read at least one unit per second');
assertLimit(API_BLOCK_CACHE_BYTES_MAX >= 2 * BLOCK_BYTES_MAX, 'the block cache holds at least two maximal blocks');
assertLimit(SIGNATURE_CACHE_ENTRIES_MAX >= 2 * VALIDATORS_MAX, 'the signature cache holds the commit votes of a full set beside its prepare votes');
assertLimit(API_CLIENTS_TRACKED_MAX >= HTTP_CONNECTIONS_MAX, 'every open connection can have its own bucket');
assertLimit(PROPOSER_VERIFY_BACKLOG_BLOCKS > 0 && PROPOSER_VERIFY_BACKLOG_BLOCKS < MEMPOOL_BACKLOG_BLOCKS, 'a proposer lets its verifier hold some backlog, less than the mempool holds');
assertLimit(MEMPOOL_TAKE_SCAN_MAX >= BLOCK_TXS_MAX, 'a proposer must be able to look at a full block of proofs');
assertLimit(MEMPOOL_TAKE_SCAN_MAX <= MEMPOOL_PROOFS_MAX, 'the take scan is bounded by the mempool itself otherwise');
assertLimit(API_PROOF_BATCH_MAX >= 1 && API_PROOF_BATCH_MAX <= MEMPOOL_PROOFS_MAX, 'a batch must fit in an empty mempool');
assertLimit(HTTP_PROOF_BATCH_BODY_BYTES_MAX >= HTTP_BODY_BYTES_MAX, 'a batch body must hold at least one maximal single-proof body');
assertLimit(HTTP_PROOF_BATCH_BODY_BYTES_MAX < MESSAGE_BYTES_MAX, 'a batch body is bounded below a peer message');
assertLimit(API_PROOF_BATCHES_IN_FLIGHT_MAX >= 1 && API_PROOF_BATCHES_IN_FLIGHT_MAX * HTTP_PROOF_BATCH_BODY_BYTES_MAX <= 64 * 1024 * 1024, 'batch bodies in memory at once stay within 64 MiB');
assertLimit(PROOF_GOSSIP_BATCH_COUNT_MAX >= API_PROOF_BATCH_MAX, 'one gossip frame can carry a whole request batch (by count)');
assertLimit(PROOF_JSON_BYTES_MAX <= PROOF_GOSSIP_BATCH_BYTES_MAX, 'a maximal proof, JSON-escaped, fits alone in a gossip frame');
assertLimit(PROOF_GOSSIP_BATCH_BYTES_MAX + 1024 <= MESSAGE_BYTES_MAX, 'a full gossip frame (and its envelope) fits in a peer message');
assertLimit(PROOF_FETCH_IDS_MAX >= BLOCK_TXS_MAX, 'one fetch can name every proof of a block');
assertLimit(PROOF_JSON_BYTES_MAX <= PROOF_FETCH_RESPONSE_BYTES_MAX, 'a maximal proof, JSON-escaped, fits alone in a fetch answer');
assertLimit(PROOF_FETCH_RESPONSE_BYTES_MAX + 1024 <= MESSAGE_BYTES_MAX, 'a full fetch answer (and its envelope) fits in a peer message');
assertLimit(PROOF_REBUILD_BYTES_MAX >= BLOCK_BYTES_MAX, 'one maximal block can be rebuilt');
assertLimit(PROOF_REBUILDS_PER_SENDER_MAX <= PROOF_REBUILDS_PENDING_MAX, 'one sender cannot take every pending rebuild slot');
assertLimit(PROOF_FETCH_TIMEOUT_MS < PROOF_REBUILD_TTL_MS, 'a rebuild outlives at least one unanswered fetch');
assertLimit(PROOF_FETCH_SERVE_BYTES_PER_PEER_PER_SEC >= BLOCK_BYTES_MAX, 'a peer can fetch a whole maximal block in a second');
assertLimit(PROOF_RECENT_BODIES_COUNT_MAX >= BLOCK_TXS_MAX && PROOF_RECENT_BODIES_BYTES_MAX >= BLOCK_BYTES_MAX, 'the recent bodies hold at least one maximal block');

// --- Monitor (operator tooling: src/monitor, src/cli/monitor-network) ---
/** Per-request bound when polling a node's /status or /validators. */
export const MONITOR_REQUEST_TIMEOUT_MS = 2_000;
/** A node's answer larger than this is refused (MONITOR_RESPONSE_TOO_LARGE). */
export const MONITOR_RESPONSE_BYTES_MAX = 4 * 1024 * 1024;
export const MONITOR_NODES_MAX = 128;
export const MONITOR_INTERVAL_MS_MIN = 200;
export const MONITOR_INTERVAL_MS_MAX = 3_600_000;
/** Commit latencies kept for the dashboard graph. */
export const MONITOR_LATENCY_HISTORY_MAX = 60;
/** Window over which "current" throughput and the mempool processing rate are measured. */
export const MONITOR_RATE_WINDOW_MS = 10_000;
export const MONITOR_RATE_SAMPLES_MAX = 256;
/** No new height for this long while nodes answer: the network is shown DEGRADED (stalled). */
export const MONITOR_STALL_MS = 30_000;
export const MONITOR_LEADERBOARD_ROWS_MAX = 20;
/**
 * A bonded validator whose signature is in none of the last this many commit certificates counts as not voting
 * (the monitor's Voting Stake, join-network's QUORUM_AT_RISK). A window, because a certificate holds only the
 * quorum its node saw.
 */
export const SIGNING_WINDOW_BLOCKS = 20;

// --- Testnet (src/testnet, src/cli/deploy-testnet) ---
export const TESTNET_NODES_MAX = VALIDATORS_MAX;
/** Longest simulated run accepted (7 days). */
export const TESTNET_DURATION_MS_MAX = 7 * 24 * 3_600_000;
export const TESTNET_ISSUES_MAX = 100;

// --- Node: storage, WAL, peers, HTTP (node helper) ---
/** One WAL record (a proposal with a maximal block fits). */
export const WAL_RECORD_BYTES_MAX = 16 * 1024 * 1024;
/** The whole WAL file; it is truncated at every commit, so this only bounds a stuck height. */
export const WAL_BYTES_MAX = 512 * 1024 * 1024;
/**
 * Peer messages are written to the WAL only below this size (past it they are refused: peers re-send them, or
 * block sync fetches the height); the rest of WAL_BYTES_MAX is kept for this node's own events.
 */
export const WAL_PEER_BYTES_MAX = 384 * 1024 * 1024;
/** One frame on a peer stream (length prefix excluded). */
export const P2P_FRAME_BYTES_MAX = 12 * 1024 * 1024;
/** Frames queued to one peer before further sends to it are dropped. */
export const P2P_SEND_QUEUE_FRAMES_MAX = 4096;
/** Bytes queued to one peer before further sends to it are dropped. */
export const P2P_SEND_QUEUE_BYTES_MAX = 64 * 1024 * 1024;
/** Score at which a peer is disconnected (scores start at 0 and go down on garbage). */
export const P2P_SCORE_DISCONNECT = -100;
/** Penalty for an undecodable or oversize frame. */
export const P2P_SCORE_PENALTY_GARBAGE = 50;
/** Delay before a dropped peer may connect again. */
export const P2P_BAN_MS = 30_000;
/** Reconnect attempt period toward known peers; a peer whose dials fail waits longer (P2P_DIAL_BACKOFF_MAX_MS). */
export const P2P_RECONNECT_MS = 1_000;
/**
 * Longest wait between dials of one address that keeps failing: the wait doubles from P2P_RECONNECT_MS per failure
 * up to this. A bond may publish any public address; with backoff, a set of N validators dials an address that
 * never answers about N times a minute rather than N times a second (issue 10, attack 8).
 */
export const P2P_DIAL_BACKOFF_MAX_MS = 60_000;
/** At start, a node looks this far back for blocks without saved results leaves (recovered from the commit journal). */
export const RESULTS_BACKFILL_BLOCKS_MAX = 256;
/** Ledger keys whose tree hash is memoized (about 200 bytes each): accounts, validators and the chain's own keys. */
export const SMT_KEY_HASH_CACHE_MAX = 65_536;
/** Stored blocks whose encoded size the consensus driver remembers when serving block sync. */
export const SYNC_SIZE_CACHE_MAX = 1024;
/** join-network: each request to a bootstrap node must answer within this, and in at most this many bytes. */
export const JOIN_REQUEST_TIMEOUT_MS = 5_000;
export const JOIN_RESPONSE_BYTES_MAX = 16 * 1024 * 1024;
// --- API client (src/client: submit-proof, join-network, the monitor, e2e tests) ---
/** Each request of the typed client must answer (headers and body) within this, unless the caller sets its own. */
export const CLIENT_REQUEST_TIMEOUT_MS = 10_000;
/** A node's answer larger than this is refused (CLIENT_RESPONSE_TOO_LARGE): room for a full block as JSON. */
export const CLIENT_RESPONSE_BYTES_MAX = 3 * BLOCK_BYTES_MAX;
/** Waiting for a verdict polls GET /proofs/:id with backoff: first after this, growing by 1.5x up to the max. */
export const CLIENT_POLL_INTERVAL_MS_MIN = 250;
export const CLIENT_POLL_INTERVAL_MS_MAX = 2_000;
/** A validator's advertised P2P address, `host:port` (a DNS name is at most 253 bytes). */
export const P2P_ADDRESS_BYTES_MAX = 262;
/**
 * Other validators' attestation transactions a node holds for the next proposals; each validator holds at most
 * this over the active set's size. The node's own are not counted: the ledger's rule bounds them (one per open proof).
 */
export const ATTEST_POOL_TXS_MAX = 10_000;

assertLimit(MESSAGE_BYTES_MAX <= P2P_FRAME_BYTES_MAX, 'a maximal message must fit in a frame');
assertLimit(P2P_FRAME_BYTES_MAX <= WAL_RECORD_BYTES_MAX, 'a received frame must fit in a WAL record');
assertLimit(WAL_RECORD_BYTES_MAX < WAL_BYTES_MAX, 'one WAL record must fit in the WAL');
assertLimit(ATTEST_POOL_TXS_MAX >= VALIDATORS_MAX, 'every validator of a full set must get a share of the attestation pool');
assertLimit(WAL_PEER_BYTES_MAX < WAL_BYTES_MAX, 'peer messages must leave room in the WAL for own events');
assertLimit(WAL_BYTES_MAX - WAL_PEER_BYTES_MAX >= 4 * WAL_RECORD_BYTES_MAX, 'the own-event reserve must hold several maximal records');

// --- Consensus engine (issue 3) ---
/** Committed blocks one sync-response may carry. */
export const SYNC_BLOCKS_PER_MESSAGE_MAX = 32;
/**
 * Heights one peer is served (each once) while this node stays at one height and between two of its timeouts: a
 * peer behind asks once or twice per height, and no peer can make this node send more than this many answers of up
 * to SYNC_BLOCKS_PER_MESSAGE_MAX blocks per committed block.
 */
export const SYNC_SERVES_PER_PEER_PER_HEIGHT = 2;
/** Messages for the next height buffered until this node gets there. */
export const FUTURE_MESSAGES_MAX = 4 * VALIDATORS_MAX;
/** Encoded size (JSON length) of everything in the future buffer together. */
export const FUTURE_BYTES_MAX = 64 * 1024 * 1024;
/** Future-buffer entries one sender may hold, so that one peer cannot fill the buffer. */
export const FUTURE_MESSAGES_PER_SENDER_MAX = FUTURE_MESSAGES_MAX / 8;
/** Future-buffer bytes one sender may hold (room for one maximal proposal and its votes). */
export const FUTURE_BYTES_PER_SENDER_MAX = 2 * MESSAGE_BYTES_MAX;
/** Votes are kept for rounds up to this far above the current round (for the f+1 round-skip rule). */
export const ROUND_LOOKAHEAD_COUNT = 64;
/** Longest leader-reputation window, in heights (genesis `leader_reputation_window_blocks`; the failures kept). */
export const LEADER_REPUTATION_WINDOW_MAX = 1000;
/** Failed proposers recorded per committed height (rounds 0..this-1 of it; a longer run of failed rounds counts as this many). */
export const LEADER_FAILURES_PER_HEIGHT_MAX = 8;
/** Entries of the base proposer schedule scanned for a round-0 proposer that has not failed recently. */
export const LEADER_SKIP_SCAN_MAX = 16;
/** Distinct pieces of evidence remembered per node (de-duplication). */
export const EVIDENCE_SEEN_MAX = 4096;
/** Ceiling of any round timeout after exponential backoff. */
export const ROUND_TIMEOUT_MS_MAX = 60_000;

assertLimit(SYNC_BLOCKS_PER_MESSAGE_MAX >= 1, 'sync must carry at least one block (the sender also caps a response at MESSAGE_BYTES_MAX)');
assertLimit(ROUND_LOOKAHEAD_COUNT < ROUND_MAX, 'lookahead below the round cap');
assertLimit(LEADER_SKIP_SCAN_MAX + ROUND_LOOKAHEAD_COUNT < ROUND_MAX, 'a shifted proposer schedule stays below the round cap');
assertLimit(MEMPOOL_PROOF_TTL_MS >= 10 * ROUND_TIMEOUT_MS_MAX, 'a pending proof outlives ten rounds at the longest timeout');
assertLimit(FUTURE_MESSAGES_PER_SENDER_MAX < FUTURE_MESSAGES_MAX, 'one sender must not be able to fill the future buffer by count');
assertLimit(FUTURE_BYTES_PER_SENDER_MAX < FUTURE_BYTES_MAX, 'one sender must not be able to fill the future buffer by bytes');
assertLimit(MESSAGE_BYTES_MAX <= FUTURE_BYTES_PER_SENDER_MAX, 'a maximal proposal must fit in one sender\'s share of the future buffer');

// --- Proof verifier (issue 2) ---
/**
 * A worker whose Z3 heap has peaked above this is replaced after its job: WASM memory never shrinks, so the pages
 * would stay resident for the worker's life. 256 MB (was 512): a corpus run peaks at ~13 MB per worker, so only a
 * heavy proof pays the ~0.3 s restart, and two workers can pin at most ~0.5 GB between them.
 */
export const VERIFIER_WORKER_RETIRE_BYTES = 256 * 1024 * 1024;
/** How often a worker samples Z3's allocation counter during a job, against VERIFIER_WORKER_RSS_BYTES_MAX. */
export const VERIFIER_MEMORY_SAMPLE_MS = 25;
/** A (re)started pool worker must load Z3 and start its job within this; otherwise the job abstains. */
export const VERIFIER_WORKER_START_MS = 120_000;
/**
 * Pool workers kept running while the node has no proof to verify (config verifier.workers_min); the others start
 * on demand (a start costs ~0.2-0.6 s of one core) and stop after VERIFIER_WORKER_IDLE_MS without a job. One warm
 * worker keeps a lone proof's finality fast; each idle worker otherwise holds ~40 MB (~90 MB for the first: it
 * also pins Z3's 33 MB WASM module). See docs/BENCHMARKS.md#memory.
 */
export const VERIFIER_WORKERS_MIN = 1;
/** How long a pool worker beyond VERIFIER_WORKERS_MIN may sit without a job before it stops (config verifier.worker_idle_ms). */
export const VERIFIER_WORKER_IDLE_MS = 60_000;
/** Largest verifier.worker_idle_ms a config may set (a day). */
export const VERIFIER_WORKER_IDLE_MS_MAX = 86_400_000;

assertLimit(VERIFIER_WORKER_RETIRE_BYTES < VERIFIER_WORKER_RSS_BYTES_MAX, 'retire a worker before it reaches the ceiling');
assertLimit(VERIFIER_WORKER_IDLE_MS > 0 && VERIFIER_WORKER_IDLE_MS <= VERIFIER_WORKER_IDLE_MS_MAX, 'the default idle stop lies within what a config may set');
assertLimit(VERIFIER_WORKER_RSS_BYTES_MAX < 2 * 1024 * 1024 * 1024, 'the ceiling must sit below the 2 GiB WASM memory of one Z3 instance');

// --- Ledger (issue 4; network values live in the genesis params, these are their ceilings) ---
/** Funded accounts a genesis seed may list (besides the validators). */
export const GENESIS_ACCOUNTS_MAX = 10_000;
/** Verdicts one attestation transaction may carry (ceiling of the attest_verdicts_max parameter). */
export const ATTEST_VERDICTS_MAX = 65_536;
/** Ceiling of the verdict_window_blocks parameter: a proof's attestations are kept this long at most. */
export const VERDICT_WINDOW_BLOCKS_MAX = 10_000;
/** Validator set changes queued at once (one per block within set_change_delay_blocks). */
export const SET_CHANGE_DELAY_BLOCKS_MAX = 1_000;
/** Ceiling of the unbonding delay. */
export const UNBONDING_DELAY_BLOCKS_MAX = 1_000_000;
/** Ceiling of the evidence age parameter. */
export const EVIDENCE_AGE_BLOCKS_MAX = 1_000_000;

/**
 * Consensus keys a validator replaced (by a re-bond from its account) that the ledger still checks evidence against,
 * each until evidence_max_age_blocks after its last signing height; a re-bond that would retire one more is refused
 * (BOND_KEY_ROTATIONS), so checking one piece of evidence costs at most this many + 1 key trials.
 */
export const VALIDATOR_RETIRED_KEYS_MAX = 4;
/**
 * Committee verdicts a validator re-verifies at once to decide whether to challenge them (src/core/attest/challenger.ts);
 * picks past it are skipped (its check share is a genesis parameter, so this only bounds a burst).
 */
export const CHALLENGE_CHECKS_PENDING_MAX = 1024;
/** Pieces of evidence a node holds for the next proposals (deduplicated, one per offence). */
export const EVIDENCE_POOL_ENTRIES_MAX = 1024;
/** Pieces of evidence against one offender in the pool at once, so a few offenders cannot fill it. */
export const EVIDENCE_POOL_PER_OFFENDER_MAX = 4;

assertLimit(ATTEST_VERDICTS_MAX >= BLOCK_TXS_MAX, 'one attestation must be able to cover a full block of proofs');
assertLimit(EVIDENCE_POOL_ENTRIES_MAX >= EVIDENCE_PER_BLOCK_MAX, 'the evidence pool must be able to fill a block\'s evidence quota');
assertLimit(EVIDENCE_POOL_ENTRIES_MAX >= VALIDATORS_MAX, 'every validator of a full set must be able to have one offence pooled');
assertLimit(EVIDENCE_POOL_PER_OFFENDER_MAX >= 1 && EVIDENCE_POOL_PER_OFFENDER_MAX < EVIDENCE_POOL_ENTRIES_MAX, 'one offender must not be able to fill the evidence pool');
assertLimit(EVIDENCE_PER_BLOCK_MAX < BLOCK_TXS_MAX, 'evidence must leave room in a block for other txs');
assertLimit(VALIDATOR_RETIRED_KEYS_MAX >= 1, 'a validator must be able to rotate its key at least once per evidence window');
assertLimit(CLIENT_RESPONSE_BYTES_MAX > BLOCK_BYTES_MAX, 'the client must be able to read a maximal block');
assertLimit(CLIENT_POLL_INTERVAL_MS_MIN > 0 && CLIENT_POLL_INTERVAL_MS_MIN <= CLIENT_POLL_INTERVAL_MS_MAX, 'poll backoff grows from min to max');

/** Signed ledger transactions (bond, unbond) waiting in a node's tx pool for a block. */
export const TX_POOL_TXS_MAX = 1_000;
/** A pooled tx not committed within this many heights is dropped (the ledger refused it, or it is stale). */
export const TX_POOL_EXPIRY_BLOCKS = 20;
/** Committed or dropped tx hashes a node remembers for GET /txs/:hash. */
export const TX_HISTORY_ENTRIES_MAX = 10_000;

// --- Testnet in real processes (issue 6: deploy-testnet --mode processes) ---
/**
 * Validators deploy-testnet runs as real processes (each a node process of ~270-320 MB RSS with one Z3 worker).
 * Measured on this 2-core, 24 GiB machine shared with other work (README "Testnet in real processes"): CPU, not
 * memory, is the bound. 6 processes commit 0.77 heights/s with no view change at a 1 s block interval; 8 still
 * agree but fall to 0.27 heights/s with 18% of rounds ending in a view change, so auto stops at 6.
 */
export const TESTNET_PROCESS_NODES_MAX = 6;
/** `--mode auto` runs real processes only for runs up to this long (they take their duration in wall time). */
export const TESTNET_PROCESS_AUTO_DURATION_MS_MAX = 15 * 60_000;
/** A spawned validator must answer GET /health within this (tsx load + Z3 WASM on a loaded machine). */
export const TESTNET_PROCESS_START_MS = 180_000;
/** Proof submissions one process testnet makes at most. */
export const TESTNET_PROCESS_PROOFS_MAX = 100_000;
/** How often the runner polls each node's /status. */
export const TESTNET_PROCESS_POLL_MS = 250;
/** A crashed (SIGKILLed) validator stays down this long at most before it is restarted from its data dir. */
export const TESTNET_PROCESS_CRASH_DOWN_MS_MAX = 10_000;

// --- Misbehaviour on test networks (scripts/start-validator --misbehave, src/node/misbehave.ts) ---
/**
 * Junk attestations a `junk-attestations` validator gossips per height: enough to show up in every peer's
 * attestation pool checks each block, few enough that its own consensus messages still fit its send queues
 * (P2P_SEND_QUEUE_FRAMES_MAX), so the attack is the junk and not a self-inflicted silence.
 */
export const MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT = 64;
assertLimit(MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT * 8 < P2P_SEND_QUEUE_FRAMES_MAX, 'junk attestations must leave room in the send queue for consensus messages');
// --- Chain lifecycle: persisted states, pruning (issue 12) ---
/** Default heights between two persisted ledger states (node config state_snapshot_interval). */
export const STATE_SNAPSHOT_INTERVAL_DEFAULT = 100;
/** Persisted states kept: the newest and the one before it (a rollback of the newest falls back to it). */
export const STATE_SNAPSHOTS_KEPT = 2;
/**
 * Parsed ledger-tree records a node keeps in memory (an LRU over the stored tree, smt-store.ts); the tree itself is
 * on disk. A record is a leaf or a group of 4 binary levels (up to 15 binary nodes and 16 edge stubs). 16 384
 * records hold the top 16 levels of the tree (4 369 groups, on every key's path) and the records a block's reads
 * and writes walk below them, so a block reads mostly from memory; a miss is one LevelDB getSync. Memory no longer
 * grows with the proofs finalized.
 */
export const SMT_NODE_CACHE_MAX = 16_384;
/**
 * Newest heights whose tree version (root pointer and every node it reaches) is kept besides the persisted states
 * (snapshots): a restart opens at the newest, a rollback needs the one before it, and a kill -9 that lost the
 * newest few LevelDB batches (blocks only in the commit journal) opens at an older one.
 */
export const STATE_VERSIONS_KEPT = 8;
/**
 * Stale tree nodes a commit deletes beyond as many as it made stale itself (so pruning keeps up and drains a
 * backlog, e.g. after the kept persisted states moved on, in bounded steps: a commit never stalls on it).
 */
export const STATE_PRUNE_NODES_PER_COMMIT = 512;
/** Tree nodes per chunk of a persisted state (each chunk one LevelDB value, ~250 bytes a node). */
export const STATE_SNAPSHOT_CHUNK_NODES = 8_192;
/** One line of an exported snapshot file (a header, a block, or a chunk of entries) is at most this long. */
export const SNAPSHOT_LINE_BYTES_MAX = 64 * 1024 * 1024;
/** State entries per line of an exported snapshot file. */
export const SNAPSHOT_FILE_ENTRIES_PER_LINE = 4_096;
/** Blocks the pruner deletes in one LevelDB batch (it yields between batches). */
export const PRUNE_BATCH_BLOCKS = 256;
/**
 * The smallest pruning.keep_recent (0 means never prune): a few recent blocks for peers a little behind. (The
 * pruner also never goes past the oldest persisted state: a restart or a rollback re-applies the blocks after it.)
 */
export const PRUNE_KEEP_RECENT_MIN = 10;

// --- State sync over P2P (issue 12, item 2) ---
/** State entries per chunk a node serves by default (node config state_sync.chunk_entries). */
export const STATE_SYNC_CHUNK_ENTRIES_DEFAULT = 4_096;
/** Most bytes in one served chunk (a chunk is one P2P frame): a snapshot with a bigger chunk is not offered. */
export const STATE_SYNC_CHUNK_BYTES_MAX = 4 * 1024 * 1024;
/** Most chunks in one offered snapshot (its chunk hashes travel in the offer: 64 hex each). */
export const STATE_SYNC_CHUNKS_MAX = 16_384;
/** Most snapshots one peer offers (a node serves the persisted states it keeps). */
export const STATE_SYNC_OFFERS_MAX = STATE_SNAPSHOTS_KEPT;
/** Most requests a node answers per peer per window (list, proof and chunk requests together); more are dropped. */
export const STATE_SYNC_SERVES_PER_PEER_PER_WINDOW = 32;
/** The rate-limit window of STATE_SYNC_SERVES_PER_PEER_PER_WINDOW. */
export const STATE_SYNC_SERVE_WINDOW_MS = 1_000;
/** Snapshots whose served form a node keeps built (each O(state) to build). */
export const STATE_SYNC_SERVED_CACHE_MAX = STATE_SNAPSHOTS_KEPT;
/** How long a syncing node waits for one answer (an offer list, a proof, a chunk) before it asks another peer. */
export const STATE_SYNC_REQUEST_TIMEOUT_MS = 10_000;
/** How long a syncing node collects offers after its first peer connects. */
export const STATE_SYNC_DISCOVERY_MS = 3_000;
/** Chunk requests a syncing node keeps in flight (spread over the peers that offer the snapshot). */
export const STATE_SYNC_CHUNKS_IN_FLIGHT = 4;
/**
 * Chunks a syncing node fetches past the first one it does not have yet (a peer that holds that one back, or a slow
 * one): those after it are hashed and held in memory until it comes (they are stored in order), so this bounds them.
 */
export const STATE_SYNC_CHUNKS_AHEAD_MAX = 2 * STATE_SYNC_CHUNKS_IN_FLIGHT;
/** A state-sync install's LevelDB writes of tree records as the chunks arrive: about this many bytes each. */
export const STATE_SYNC_INSTALL_BATCH_BYTES = 4 * 1024 * 1024;
/** At most this many such writes queued; the fetch waits for the store beyond it (bounds the install's memory). */
export const STATE_SYNC_INSTALL_WRITES_QUEUED = 2;
/** Worker threads that hash a join's chunks (fewer on fewer cores: one is the main thread's). */
export const STATE_SYNC_HASH_THREADS_MAX = STATE_SYNC_CHUNKS_IN_FLIGHT;
/** Records a walk of a stored tree version (state sync's server, export) reads before it lets the event loop run (~10 ms). */
export const STATE_WALK_READS_PER_SLICE = 4_096;
/** Rounds of discovery (ask every peer for offers, try them) before state sync gives up with an error. */
export const STATE_SYNC_ROUNDS_MAX = 20;
/** Rounds in a row in which every connected peer offers no snapshot before a syncing node replays from genesis instead. */
export const STATE_SYNC_EMPTY_ROUNDS = 2;
/** Wait between two rounds of discovery (no peer, or no offer could be verified). */
export const STATE_SYNC_RETRY_MS = 2_000;
assertLimit(STATE_SYNC_CHUNK_BYTES_MAX < P2P_FRAME_BYTES_MAX / 2, 'a served chunk must fit in a frame with room to spare');
assertLimit(STATE_SYNC_CHUNKS_MAX * 80 < P2P_FRAME_BYTES_MAX / 2, "an offer's chunk hashes must fit in a frame");
assertLimit(STATE_SYNC_CHUNKS_IN_FLIGHT <= STATE_SYNC_SERVES_PER_PEER_PER_WINDOW, 'a syncing node must not outrun one serving peer on its own');

assertLimit(STATE_VERSIONS_KEPT >= 2, 'a rollback of the newest tree version needs the one before it');
assertLimit(STATE_SNAPSHOTS_KEPT >= 2, 'a rollback of the newest persisted state needs the one before it');
assertLimit(STATE_SNAPSHOT_INTERVAL_DEFAULT >= 1, 'a snapshot interval is at least one height');
