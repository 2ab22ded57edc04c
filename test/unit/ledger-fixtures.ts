/** Builders for ledger tests: deterministic keys, genesis, signed transactions and blocks. */
import { keyPairFromSeed, sign, type KeyPair } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import {
  attestCommitment,
  attestCommitSignBytes,
  attestRevealSignBytes,
  attestSalt,
  bondKeySignBytes,
  bondSignBytes,
  buildGenesis,
  prepareBlock,
  unbondSignBytes,
  type GenesisDoc,
  type LedgerState,
} from '../../src/core/ledger/index.js';
import { hashHeader, voteSignBytes } from '../../src/core/ledger/consensus-bridge.js';
import { KEY, readKey } from '../../src/core/ledger/state.js';
import { vrfAlpha } from '../../src/core/consensus/election.js';
import { vrfProve } from '../../src/crypto/vrf.js';
import type { SignNetwork } from '../../src/core/codec/sign-domain.js';
import type { AttestedVerdict, Block, BlockHeader, Certificate, Proof, Tx, Vote } from '../../src/core/types/index.js';

export function keyFor(name: string): KeyPair {
  return keyPairFromSeed(sha256Hex(`ledger-test-key/${name}`));
}

export function makeGenesis(opts: { validators?: number; stakes?: number[]; accounts?: { name: string; balance: number }[]; params?: Record<string, number | boolean | string> } = {}): { doc: GenesisDoc; keys: Map<string, KeyPair> } {
  const n = opts.stakes?.length ?? opts.validators ?? 4;
  const keys = new Map<string, KeyPair>();
  const validators = Array.from({ length: n }, (_, i) => {
    const id = `node_${i + 1}`;
    keys.set(id, keyFor(id));
    return { node_id: id, stake: opts.stakes?.[i] ?? 10000, initial_balance: 0, public_key: keyFor(id).publicKey };
  });
  const accounts = (opts.accounts ?? []).map((a) => {
    keys.set(a.name, keyFor(a.name));
    return { name: a.name, balance: a.balance, public_key: keyFor(a.name).publicKey };
  });
  const doc = buildGenesis({ chain_id: 'pop-test', validators, accounts, params: opts.params ?? {} }, { z3Version: 'z3-solver 5.2.0' });
  return { doc, keys };
}

export function proofN(i: number): Proof {
  return { smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat)`, claim: 'sat' };
}

type Verdicts = { proofId: string; verdict: AttestedVerdict }[];
const sortedById = <T extends { proofId: string }>(items: T[]): T[] => [...items].sort((a, b) => (a.proofId < b.proofId ? -1 : 1));

/** The tx builders sign for `network` (a GenesisDoc is one: chain id and genesis hash). Salts: attestSalt of the key. */
export function commitTx(network: SignNetwork, validator: string, key: KeyPair, verdicts: Verdicts): Tx {
  const commitments = sortedById(verdicts).map(({ proofId, verdict }) => ({ proofId, commitment: attestCommitment(network, { proofId, verdict, salt: attestSalt(key.secretKey, network, proofId), validator }) }));
  return { type: 'attest-commit', validator, commitments, signature: sign(key.secretKey, attestCommitSignBytes(network, { validator, commitments })) };
}

export function revealTx(network: SignNetwork, validator: string, key: KeyPair, verdicts: Verdicts): Tx {
  const reveals = sortedById(verdicts).map(({ proofId, verdict }) => ({ proofId, verdict, salt: attestSalt(key.secretKey, network, proofId) }));
  return { type: 'attest-reveal', validator, reveals, signature: sign(key.secretKey, attestRevealSignBytes(network, { validator, reveals })) };
}

export function bondTx(network: SignNetwork, account: KeyPair, validator: string, validatorKey: KeyPair, stake: number, nonce: number, address?: string): Tx {
  const body = { account: account.publicKey, validator, publicKey: validatorKey.publicKey, stake, nonce, ...(address !== undefined ? { address } : {}) };
  const keySignature = sign(validatorKey.secretKey, bondKeySignBytes(network, body));
  return { type: 'bond', ...body, keySignature, signature: sign(account.secretKey, bondSignBytes(network, body)) };
}

export function unbondTx(network: SignNetwork, validator: string, key: KeyPair, nonce: number): Tx {
  return { type: 'unbond', validator, nonce, signature: sign(key.secretKey, unbondSignBytes(network, { validator, nonce })) };
}

export function signVote(network: SignNetwork, key: KeyPair, body: Omit<Vote, 'signature'>): Vote {
  return { ...body, signature: sign(key.secretKey, voteSignBytes(network, body)) };
}

/**
 * The VRF proof a proposer puts in its header under committees (proposer_election vrf): over the seed of the block
 * before as the state records it (the genesis hash before block 1). `prevSeed` overrides it (a proposer's choice).
 */
export function vrfProofFor(state: LedgerState, proposer: string, height: number, prevSeed?: string): string {
  const seed = prevSeed ?? readKey<string>(state.tree, KEY.seed) ?? state.genesisHash;
  return vrfProve(keyFor(proposer).secretKey, vrfAlpha(state.chain.chainId, height, seed)).pi;
}

/** A block the ledger accepts: header roots from prepareBlock; throws if any tx would be dropped. With committees, the proposer's VRF proof. */
export function makeBlock(state: LedgerState, txs: Tx[], opts: { proposer?: string; lastCommit?: Certificate | null; round?: number; vrfProof?: string | null } = {}): Block {
  const height = state.chain.height + 1;
  const proposer = opts.proposer ?? (state.activeSet[(height - 1) % state.activeSet.length]?.id as string);
  const p = prepareBlock(state, { height, proposer, candidates: txs });
  if (p.rejected.length > 0) throw new Error(`makeBlock: rejected ${JSON.stringify(p.rejected)}`);
  const header: BlockHeader = {
    chainId: state.chain.chainId,
    height,
    round: opts.round ?? 0,
    prevHash: state.chain.lastBlockHash,
    proposer,
    txsRoot: p.txsRoot,
    stateRoot: p.stateRoot,
    resultsRoot: p.resultsRoot,
    lastCommitHash: '',
    validatorsHash: p.validatorsHash,
  };
  const vrfProof = opts.vrfProof === undefined ? ((state.params.committeeSize ?? 0) > 0 ? vrfProofFor(state, proposer, height) : null) : opts.vrfProof;
  if (vrfProof !== null) header.vrfProof = vrfProof;
  return { header, txs: p.txs, lastCommit: opts.lastCommit ?? null };
}

/** A commit certificate for `header` signed by `signers` on `network`. */
export function certify(network: SignNetwork, header: BlockHeader, signers: string[], keys: Map<string, KeyPair>): Certificate {
  const blockHash = hashHeader(header);
  const signatures = [...signers].sort().map((validator) => {
    const vote = signVote(network, keys.get(validator) as KeyPair, { type: 'commit', chainId: header.chainId, height: header.height, round: header.round, blockHash, validator });
    return { validator, signature: vote.signature };
  });
  return { height: header.height, round: header.round, blockHash, signatures };
}
