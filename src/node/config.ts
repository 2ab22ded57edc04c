/**
 * A validator's configuration file (config/node_N.json), in the seed's format plus the fields a real node
 * needs. Validated at start with zod; EVERY problem is reported with its path, so an operator fixes the
 * file in one go.
 *
 *   {
 *     "node_id": "node_1", "stake": 10000,
 *     "network": { "listen_port": 8001, "listen_host": "127.0.0.1",
 *                  "bootstrap_peers": [ { "node_id": "node_2", "address": "localhost:8002" } ] },
 *     "consensus": { "timeout": 10.0, "view_change_timeout": 5.0 },
 *     "http_port": 8101, "http_host": "127.0.0.1",
 *     "data_dir": "data/node_1", "key_file": "data/keys/node_1.json",
 *     "verifier": { "workers": 2, "workers_min": 1, "worker_idle_ms": 60000 }
 *   }
 */
import { isPeerAddress } from '../core/types/validator.js';
import { z } from 'zod';
import {
  API_CLIENT_BURST_COUNT,
  API_CLIENT_READ_BURST_BYTES,
  API_CLIENT_READ_BYTES_PER_SECOND,
  API_CLIENT_READ_UNIT_BYTES,
  API_CLIENT_SUBMITS_PER_SECOND,
  API_CLIENTS_TRACKED_MAX,
  NODE_ID_BYTES_MAX,
  PEERS_MAX,
  PRUNE_KEEP_RECENT_MIN,
  STATE_SNAPSHOT_INTERVAL_DEFAULT,
  STATE_SYNC_CHUNK_ENTRIES_DEFAULT,
  VERIFIER_WORKER_IDLE_MS,
  VERIFIER_WORKER_IDLE_MS_MAX,
  VERIFIER_WORKERS_MIN,
} from '../core/limits.js';
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from '../core/consensus/timeouts.js';

const nodeId = z
  .string()
  .min(1)
  .max(NODE_ID_BYTES_MAX)
  .regex(/^[A-Za-z0-9_.-]+$/, 'a node id is letters, digits, _ . -');
const port = z.number().int().min(1).max(65535);
const seconds = z.number().positive().max(3600);
const host = z.string().min(1).max(255);

export const NodeConfigSchema = z
  .object({
    node_id: nodeId,
    stake: z.number().int().positive(),
    network: z
      .object({
        listen_port: port,
        listen_host: host.default('127.0.0.1'),
        /** Where peers reach this node (host:port), published by GET /peers and by join-network's bond; default listen_host:listen_port. */
        advertise_address: z.string().refine(isPeerAddress, 'an address is host:port').optional(),
        bootstrap_peers: z
          .array(
            z
              .object({
                node_id: nodeId,
                address: z.string().refine(isPeerAddress, 'an address is host:port'),
              })
              .strict(),
          )
          .max(PEERS_MAX)
          .default([]),
      })
      .strict(),
    consensus: z
      .object({
        /** Seconds: the cap of a round's timeout as it backs off over failed rounds (timeoutsFromConfig: timeoutMsMax). */
        timeout: seconds.default(10),
        /** Seconds a round waits for a proposal before voting nil and changing view: the base of the backoff (proposeMs). */
        view_change_timeout: seconds.default(5),
      })
      .strict()
      .default({ timeout: 10, view_change_timeout: 5 }),
    http_port: port,
    http_host: host.default('127.0.0.1'),
    data_dir: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    /**
     * Z3 worker threads: at most `workers`; `workers_min` stay running while there is nothing to verify, the others
     * start on demand and stop after `worker_idle_ms` without a job (limits.ts VERIFIER_WORKERS_MIN, VERIFIER_WORKER_IDLE_MS).
     */
    verifier: z
      .object({
        workers: z.number().int().min(1).max(64).default(2),
        workers_min: z.number().int().min(0).max(64).default(VERIFIER_WORKERS_MIN),
        worker_idle_ms: z.number().int().min(1).max(VERIFIER_WORKER_IDLE_MS_MAX).default(VERIFIER_WORKER_IDLE_MS),
      })
      .strict()
      // Only when both are valid numbers: a bad `workers` is reported once, on its own path.
      .refine((v) => !(Number.isInteger(v.workers) && v.workers >= 1 && Number.isInteger(v.workers_min) && v.workers_min > v.workers), {
        message: 'workers_min cannot exceed workers',
        path: ['workers_min'],
      })
      .default({ workers: 2, workers_min: VERIFIER_WORKERS_MIN, worker_idle_ms: VERIFIER_WORKER_IDLE_MS }),
    /**
     * Per-client (IP address) limits (limits.ts defaults): submissions (POST /proofs, POST /txs), a burst then a rate;
     * bytes answered by the reading routes (GET /blocks, /proofs/:id, ...), a burst then a rate.
     */
    api: z
      .object({
        client_submits_per_second: z.number().positive().max(1_000_000).default(API_CLIENT_SUBMITS_PER_SECOND),
        client_burst: z.number().int().min(1).max(1_000_000).default(API_CLIENT_BURST_COUNT),
        client_read_bytes_per_second: z.number().int().min(API_CLIENT_READ_UNIT_BYTES).max(2 ** 40).default(API_CLIENT_READ_BYTES_PER_SECOND),
        client_read_burst_bytes: z.number().int().min(API_CLIENT_READ_UNIT_BYTES).max(2 ** 40).default(API_CLIENT_READ_BURST_BYTES),
      })
      .strict()
      .refine((a) => a.client_burst >= a.client_submits_per_second, { message: 'client_burst must be at least one second of client_submits_per_second', path: ['client_burst'] })
      .refine((a) => a.client_read_burst_bytes >= a.client_read_bytes_per_second, { message: 'client_read_burst_bytes must be at least one second of client_read_bytes_per_second', path: ['client_read_burst_bytes'] })
      .default({
        client_submits_per_second: API_CLIENT_SUBMITS_PER_SECOND,
        client_burst: API_CLIENT_BURST_COUNT,
        client_read_bytes_per_second: API_CLIENT_READ_BYTES_PER_SECOND,
        client_read_burst_bytes: API_CLIENT_READ_BURST_BYTES,
      }),
    /**
     * Heights between two persisted ledger states (a restart opens at the newest and re-applies the blocks after
     * it); 0 never persists one (a restart re-applies every block). This node's disk only, so node config.
     */
    state_snapshot_interval: z.number().int().min(0).max(1_000_000).default(STATE_SNAPSHOT_INTERVAL_DEFAULT),
    /**
     * State sync over P2P (src/node/state-sync.ts): `enabled` makes a node started on an empty data directory
     * fetch a verified snapshot from its peers instead of replaying every block from genesis (join-network turns
     * it on). `chunk_entries` is how many state entries go in each chunk this node serves. `prepare_ahead` prepares
     * each new servable state for peers as soon as it exists (a walk of the state per state_snapshot_interval),
     * instead of on the first request (which then waits for it).
     */
    state_sync: z
      .object({
        enabled: z.boolean().default(false),
        chunk_entries: z.number().int().min(1).max(1_000_000).default(STATE_SYNC_CHUNK_ENTRIES_DEFAULT),
        prepare_ahead: z.boolean().default(false),
      })
      .strict()
      .default({ enabled: false, chunk_entries: STATE_SYNC_CHUNK_ENTRIES_DEFAULT, prepare_ahead: false }),
    /**
     * Which block bodies to keep (CometBFT's retain height, Cosmos' pruning): the newest keep_recent blocks and every
     * keep_every-th; 0 keeps all. Never below the oldest persisted state (a restart re-applies from there).
     */
    pruning: z
      .object({
        keep_recent: z
          .number()
          .int()
          .min(0)
          .refine((n) => n === 0 || n >= PRUNE_KEEP_RECENT_MIN, `keep_recent is 0 (keep all) or at least ${PRUNE_KEEP_RECENT_MIN}`)
          .default(0),
        keep_every: z.number().int().min(0).default(0),
      })
      .strict()
      .default({ keep_recent: 0, keep_every: 0 }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.network.bootstrap_peers.forEach((peer, i) => {
      if (peer.node_id === cfg.node_id) ctx.addIssue({ code: 'custom', path: ['network', 'bootstrap_peers', i, 'node_id'], message: 'a node cannot bootstrap from itself' });
      if (seen.has(peer.node_id)) ctx.addIssue({ code: 'custom', path: ['network', 'bootstrap_peers', i, 'node_id'], message: `duplicate peer ${peer.node_id}` });
      seen.add(peer.node_id);
    });
    if (cfg.pruning.keep_recent > 0 && cfg.state_snapshot_interval === 0) {
      ctx.addIssue({ code: 'custom', path: ['pruning', 'keep_recent'], message: 'pruning needs persisted states (state_snapshot_interval > 0): block bodies are pruned only below the oldest one (state sync and export serve it with the block after it)' });
    }
    if (cfg.http_port === cfg.network.listen_port && cfg.http_host === cfg.network.listen_host) {
      ctx.addIssue({ code: 'custom', path: ['http_port'], message: 'http_port equals network.listen_port' });
    }
  });

/** The validated config with defaults filled in (data_dir and key_file derived from node_id). */
export type NodeConfig = z.output<typeof NodeConfigSchema> & { data_dir: string; key_file: string };

export interface ConfigIssue {
  /** e.g. `network.bootstrap_peers.1.address` ('' for the whole file). */
  path: string;
  message: string;
}

export type ConfigResult = { ok: true; config: NodeConfig } | { ok: false; issues: ConfigIssue[] };

/**
 * Validate a parsed config file. Never throws.
 * @example const r = parseNodeConfig(JSON.parse(text)); if (!r.ok) for (const i of r.issues) console.error(`${i.path}: ${i.message}`);
 */
export function parseNodeConfig(input: unknown): ConfigResult {
  const parsed = NodeConfigSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })) };
  }
  const cfg = parsed.data;
  return {
    ok: true,
    config: { ...cfg, data_dir: cfg.data_dir ?? `data/${cfg.node_id}`, key_file: cfg.key_file ?? `data/keys/${cfg.node_id}.json` },
  };
}

/** Parse config file text (JSON). Never throws: a syntax error is one issue at path ''. */
export function parseNodeConfigText(text: string): ConfigResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, issues: [{ path: '', message: `not valid JSON: ${(err as Error).message}` }] };
  }
  return parseNodeConfig(value);
}

/** The default local-network config of node_N (N in 1..count): P2P 8000+N, HTTP 8100+N, all others as peers. */
export function defaultLocalConfig(index: number, count: number, stake = 10000): NodeConfig {
  const peers = Array.from({ length: count }, (_, i) => i + 1)
    .filter((n) => n !== index)
    .map((n) => ({ node_id: `node_${n}`, address: `localhost:${8000 + n}` }));
  const result = parseNodeConfig({
    node_id: `node_${index}`,
    stake,
    network: { listen_port: 8000 + index, bootstrap_peers: peers },
    consensus: { timeout: 10.0, view_change_timeout: 5.0 },
    http_port: 8100 + index,
  });
  if (!result.ok) throw new Error('default config invalid: ' + JSON.stringify(result.issues));
  return result.config;
}

/** The config's seconds as consensus timeouts: view_change_timeout waits for a proposal; timeout caps backoff. */
export function timeoutsFromConfig(config: NodeConfig, overrides: Partial<TimeoutConfig> = {}): TimeoutConfig {
  const proposeMs = Math.round(config.consensus.view_change_timeout * 1000);
  return {
    ...DEFAULT_TIMEOUTS,
    proposeMs,
    timeoutMsMax: Math.max(proposeMs, Math.round(config.consensus.timeout * 1000)),
    ...overrides,
  };
}

/** The config's per-client submission limits, as the node's client limiter takes them. */
export function clientLimitsFromConfig(config: NodeConfig): { perSecond: number; burstCount: number; clientsMax: number } {
  return { perSecond: config.api.client_submits_per_second, burstCount: config.api.client_burst, clientsMax: API_CLIENTS_TRACKED_MAX };
}

/** The config's per-client read budget, in tokens of API_CLIENT_READ_UNIT_BYTES (the node's read limiter). */
export function readLimitsFromConfig(config: NodeConfig): { perSecond: number; burstCount: number; clientsMax: number } {
  const unit = API_CLIENT_READ_UNIT_BYTES;
  return { perSecond: config.api.client_read_bytes_per_second / unit, burstCount: Math.floor(config.api.client_read_burst_bytes / unit), clientsMax: API_CLIENTS_TRACKED_MAX };
}
