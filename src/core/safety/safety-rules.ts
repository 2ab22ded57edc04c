/**
 * SafetyRules: the only code that signs consensus messages (Aptos SafetyRules, CometBFT privval).
 *
 * It keeps the last signed (height, round, step) and the exact bytes it signed. A request is signed only if it
 * moves strictly forward in (height, round, step); the new record is persisted through the SafetyStore port
 * before the signature leaves. A request identical to the last one gets the stored signature back (a restart
 * that replays its WAL re-requests what it already signed). Anything else at or below the last (h, r, step)
 * is refused with a typed error. Because the record survives restarts, a validator can never sign two
 * conflicting messages, whatever its consensus state forgot.
 */
import type { SafetyRecord, SafetyStore } from '../../ports/safety-store.js';
import { bytesToHex } from '../../crypto/hash.js';
import { sign as ed25519Sign } from '../../crypto/ed25519.js';
import { vrfProve } from '../../crypto/vrf.js';
import { proposalSignBytes, voteSignBytes, type ProposalBody, type VoteBody } from '../consensus/messages.js';
import type { SignNetwork } from '../codec/sign-domain.js';

export type SignRequest = { kind: 'proposal'; body: ProposalBody } | { kind: 'vote'; body: VoteBody };

export type SafetyErrorCode = 'SAFETY_WRONG_CHAIN' | 'SAFETY_WRONG_SIGNER' | 'SAFETY_HEIGHT_REGRESSION' | 'SAFETY_ROUND_REGRESSION' | 'SAFETY_STEP_REGRESSION' | 'SAFETY_CONFLICT';

export type SignResult = { ok: true; signature: string } | { ok: false; code: SafetyErrorCode; message: string };

/** (height, round, step) of a request. */
export function requestPosition(request: SignRequest): { height: number; round: number; step: 1 | 2 | 3 } {
  if (request.kind === 'proposal') return { height: request.body.height, round: request.body.round, step: 1 };
  return { height: request.body.height, round: request.body.round, step: request.body.type === 'prepare' ? 2 : 3 };
}

/**
 * The bytes signed for `request` on `network` (the domain binds the chain id and the genesis hash). Memoized per
 * request object (requests are immutable once built): SafetyRules, the node's own vote and the simulator's
 * observers ask for the same request's bytes.
 */
export function requestSignBytes(network: SignNetwork, request: SignRequest): Uint8Array {
  const memo = requestBytes.get(request);
  if (memo !== undefined && memo.chainId === network.chainId && memo.genesisHash === network.genesisHash) return memo.bytes;
  const bytes = request.kind === 'proposal' ? proposalSignBytes(network, request.body) : voteSignBytes(network, request.body);
  requestBytes.set(request, { chainId: network.chainId, genesisHash: network.genesisHash, bytes });
  return bytes;
}

const requestBytes = new WeakMap<SignRequest, { chainId: string; genesisHash: string; bytes: Uint8Array }>();

function requestSigner(request: SignRequest): string {
  return request.kind === 'proposal' ? request.body.proposer : request.body.validator;
}

export interface SafetyRulesOptions {
  chainId: string;
  /** The genesis hash of the network: with the chain id, the domain of every signature (see sign-domain.ts). */
  genesisHash: string;
  validator: string;
  /** 32-byte Ed25519 seed, hex. Never leaves this module. */
  secretKey: string;
  store: SafetyStore;
}

export class SafetyRules {
  readonly #chainId: string;
  readonly #network: SignNetwork;
  readonly #validator: string;
  readonly #secretKey: string;
  readonly #store: SafetyStore;
  #last: SafetyRecord | null;

  /** Loads the last record from the store (throws if it is unreadable, or belongs to another chain or key). */
  constructor(options: SafetyRulesOptions) {
    this.#chainId = options.chainId;
    this.#network = { chainId: options.chainId, genesisHash: options.genesisHash };
    this.#validator = options.validator;
    this.#secretKey = options.secretKey;
    this.#store = options.store;
    this.#last = options.store.load();
    if (this.#last && (this.#last.chainId !== this.#chainId || this.#last.validator !== this.#validator)) {
      throw new Error(`SafetyRules: stored record is for ${this.#last.validator} on ${this.#last.chainId}`);
    }
  }

  /**
   * The ECVRF proof (hex) of this validator's key over `alpha` (a proposer's, under proposer_election vrf). Needs no
   * record: for one key and input there is one proof, so proving twice can never conflict.
   * @example const pi = rules.vrfProve(vrfAlpha(chainId, height, prevSeed))
   */
  vrfProve(alpha: Uint8Array): string {
    return vrfProve(this.#secretKey, alpha).pi;
  }

  /** The last signed position, or null. */
  lastSigned(): Readonly<SafetyRecord> | null {
    return this.#last;
  }

  /**
   * Sign a proposal or vote if it moves forward; persist first.
   * @throws whatever the store throws on `save` (fatal: the signature is not released).
   * @example const r = rules.sign({ kind: 'vote', body }); if (r.ok) broadcast({ ...body, signature: r.signature })
   */
  sign(request: SignRequest): SignResult {
    if (request.body.chainId !== this.#chainId) return { ok: false, code: 'SAFETY_WRONG_CHAIN', message: `request for chain ${request.body.chainId}` };
    if (requestSigner(request) !== this.#validator) return { ok: false, code: 'SAFETY_WRONG_SIGNER', message: `request signs as ${requestSigner(request)}` };
    const pos = requestPosition(request);
    const signBytes = requestSignBytes(this.#network, request);
    const bytesHex = bytesToHex(signBytes);
    const last = this.#last;
    if (last) {
      if (pos.height < last.height) return { ok: false, code: 'SAFETY_HEIGHT_REGRESSION', message: `height ${pos.height} < last signed ${last.height}` };
      if (pos.height === last.height) {
        if (pos.round < last.round) return { ok: false, code: 'SAFETY_ROUND_REGRESSION', message: `round ${pos.round} < last signed ${last.round} at height ${pos.height}` };
        if (pos.round === last.round) {
          if (pos.step < last.step) return { ok: false, code: 'SAFETY_STEP_REGRESSION', message: `step ${pos.step} < last signed ${last.step}` };
          if (pos.step === last.step) {
            if (bytesHex === last.signBytesHex) return { ok: true, signature: last.signature };
            return { ok: false, code: 'SAFETY_CONFLICT', message: `conflicting message at height ${pos.height} round ${pos.round} step ${pos.step}` };
          }
        }
      }
    }
    const signature = ed25519Sign(this.#secretKey, signBytes);
    const record: SafetyRecord = { chainId: this.#chainId, validator: this.#validator, height: pos.height, round: pos.round, step: pos.step, signBytesHex: bytesHex, signature };
    this.#store.save(record); // throws -> the signature never leaves
    this.#last = record;
    return { ok: true, signature };
  }
}
