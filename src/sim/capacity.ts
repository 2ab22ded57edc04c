/**
 * The capacity workload of the simulator's ledger app (issue 15, item 5): a client offering proofs at a fixed rate
 * (proof i is released at i / rate seconds, the same proof at every instance), each proof's verification cost (a
 * deterministic function of its id, the same at every validator), and the meter of proofs reaching a final verdict
 * per simulated second over a steady-state window.
 */
import { SIM_LOAD_PROOFS_PER_SECOND_MAX } from '../core/limits.js';
import { proofFee } from '../core/ledger/fees.js';
import { proofPaymentSignBytes } from '../core/ledger/sign-bytes.js';
import { getProof, ledgerNetwork, type LedgerState } from '../core/ledger/state.js';
import { proofId, type Proof, type ProofPayment } from '../core/types/proof.js';
import { keyPairFromSeed, sign } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';

/** The cost model's settings (LedgerSimConfig.capacity). */
export interface CapacityConfig {
  /** Mean simulated ms one validator's single worker takes per proof (each proof's cost is 0.5..1.5 times it, by id). */
  verifyMsPerProof: number;
  /** Proofs the load client offers per simulated second (at every instance's door). */
  proofsPerSecond: number;
  /** Throughput is measured over final verdicts committed in [measureFromSec, measureToSec). */
  measureFromSec: number;
  measureToSec: number;
}

/**
 * The verdict window and commit phase of a capacity run (blocks of ~1 s): long enough that a committee member, which
 * gets a whole block's proofs at once, can spread them over the blocks its other committees leave free (the ledger
 * app's 6-block window suits short runs with few proofs; the genesis default is 150 and 100).
 */
export const CAPACITY_VERDICT_WINDOW_BLOCKS = 30;
export const CAPACITY_COMMIT_PHASE_BLOCKS = 20;

/** The load client's genesis account: enough for every proof of a long run. */
export const LOAD_CLIENT = { name: 'client-load', balance: 1_000_000_000_000 } as const;
const loadKey = keyPairFromSeed(sha256Hex(`pop-sim-client/${LOAD_CLIENT.name}`));
export const LOAD_CLIENT_PUBLIC_KEY = loadKey.publicKey;
/** Signed load proofs kept for the other instances (payments are deterministic; signing once per proof saves time). */
const LOAD_CACHE_MAX = 4096;

/**
 * `config` checked.
 * @throws RangeError naming the setting that is out of range.
 */
export function checkCapacityConfig(config: CapacityConfig): CapacityConfig {
  if (!(Number.isFinite(config.verifyMsPerProof) && config.verifyMsPerProof >= 1 && config.verifyMsPerProof <= 600_000)) throw new RangeError('verifyMsPerProof must be in 1..600000');
  if (!(Number.isFinite(config.proofsPerSecond) && config.proofsPerSecond > 0 && config.proofsPerSecond <= SIM_LOAD_PROOFS_PER_SECOND_MAX)) throw new RangeError(`proofsPerSecond must be in (0, ${SIM_LOAD_PROOFS_PER_SECOND_MAX}]`);
  if (!(config.measureFromSec >= 0 && config.measureToSec > config.measureFromSec)) throw new RangeError('need 0 <= measureFromSec < measureToSec');
  return config;
}

/**
 * Simulated ms proof `id` takes to verify: 0.5..1.5 times the mean, from the id's bytes 2..5 (bytes 0..1 decide its
 * verdict, simVerdict), so every validator spends the same on the same proof.
 * @example verifyCostMs('00' + '8000' + '0'.repeat(58), 200) === 200
 */
export function verifyCostMs(id: string, meanMs: number): number {
  return Math.max(1, Math.round(meanMs * (0.5 + parseInt(id.slice(2, 6), 16) / 0x10000)));
}

/** The load client's proofs, signed once for every instance. */
export interface LoadClient {
  /** Proof `index` with its payment under `state`'s fee rules and network. */
  proof(state: LedgerState, index: number): { proof: Proof; payment: ProofPayment };
  /** The index of the first proof not yet released at `nowMs`. */
  released(nowMs: number): number;
}

export function createLoadClient(proofsPerSecond: number): LoadClient {
  const cache = new Map<number, { proof: Proof; payment: ProofPayment }>();
  return {
    proof(state, index) {
      const hit = cache.get(index);
      if (hit !== undefined) return hit;
      const proof: Proof = { smtlib: `(declare-const x Int)(assert (= x ${index}))(check-sat); load`, claim: 'sat' };
      const id = proofId(proof);
      const fee = proofFee(state.params, proof);
      const payment: ProofPayment = { account: loadKey.publicKey, fee, signature: sign(loadKey.secretKey, proofPaymentSignBytes(ledgerNetwork(state), { proofId: id, account: loadKey.publicKey, fee })) };
      cache.set(index, { proof, payment });
      if (cache.size > LOAD_CACHE_MAX) cache.delete(cache.keys().next().value as number);
      return { proof, payment };
    },
    released: (nowMs) => Math.floor((nowMs * proofsPerSecond) / 1000),
  };
}

/**
 * One instance's feed from the load client: after each commit, every proof released since the last call (and not on
 * chain) goes to the instance's door. A new incarnation starts with the proofs of the last few seconds.
 */
export function loadFeed(client: LoadClient, startMs: number): (state: LedgerState, nowMs: number, add: (proof: Proof, payment: ProofPayment) => void) => void {
  let next = client.released(Math.max(0, startMs - 5_000));
  return (state, nowMs, add) => {
    const upTo = client.released(nowMs);
    for (; next < upTo; next++) {
      const { proof, payment } = client.proof(state, next);
      if (getProof(state, proofId(proof)) === undefined) add(proof, payment);
    }
  };
}

/** Final verdicts per committed height, timed at the height's first commit anywhere: the run's throughput. */
export interface ThroughputMeter {
  record(state: LedgerState, nowMs: number): void;
  /** Final (valid/invalid) verdicts committed in the window, per simulated second; and the window's counts. */
  result(): { finalPerSecond: number; finalInWindow: number; undecidedInWindow: number };
}

export function createThroughputMeter(config: Pick<CapacityConfig, 'measureFromSec' | 'measureToSec'>): ThroughputMeter {
  let height = 0;
  let final = 0;
  let undecided = 0;
  const fromMs = config.measureFromSec * 1000;
  const toMs = config.measureToSec * 1000;
  return {
    record(state, nowMs) {
      if (state.chain.height <= height) return;
      height = state.chain.height;
      if (nowMs < fromMs || nowMs >= toMs) return;
      for (const leaf of state.lastResults) {
        if (leaf.kind !== 'final') continue;
        if (leaf.verdict === 'undecided') undecided++;
        else final++;
      }
    },
    result: () => ({ finalPerSecond: Math.round((final / (config.measureToSec - config.measureFromSec)) * 100) / 100, finalInWindow: final, undecidedInWindow: undecided }),
  };
}
