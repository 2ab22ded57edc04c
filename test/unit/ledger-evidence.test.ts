/**
 * Equivocation cannot be dodged (issue 10, attack 1): evidence is checked against the key the offender had at the
 * offence's height (a re-bond that rotates the key keeps the old one for evidence_max_age_blocks), and unbonded
 * stake stays in the queue, slashable, for as long as evidence of an offence it backed can land.
 */
import { describe, expect, it } from 'vitest';
import {
  applyBlock,
  buildGenesis,
  checkGenesis,
  genesisState,
  getSupply,
  getUnbonding,
  getValidator,
  parseGenesisSeed,
  validateBlock,
  type LedgerState,
} from '../../src/core/ledger/index.js';
import { txsRoot } from '../../src/core/ledger/results.js';
import { VALIDATOR_RETIRED_KEYS_MAX } from '../../src/core/limits.js';
import type { KeyPair } from '../../src/crypto/ed25519.js';
import type { Block, Tx } from '../../src/core/types/index.js';
import { bondTx, keyFor, makeBlock, makeGenesis, signVote, unbondTx } from './ledger-fixtures.js';
import type { SignNetwork } from '../../src/core/codec/sign-domain.js';

/** The network of the genesis the current test made (set by `genesisOf`): everything is signed for it. */
let CHAIN: SignNetwork;
function genesisOf(opts: Parameters<typeof makeGenesis>[0]): ReturnType<typeof makeGenesis> {
  const made = makeGenesis(opts);
  CHAIN = made.doc;
  return made;
}

function step(state: LedgerState, txs: Tx[]): LedgerState {
  return applyBlock(state, makeBlock(state, txs));
}

function stepTo(state: LedgerState, height: number): LedgerState {
  let s = state;
  while (s.chain.height < height) s = step(s, []);
  return s;
}

function unchecked(state: LedgerState, txs: Tx[]): Block {
  const b = makeBlock(state, []);
  return { ...b, txs, header: { ...b.header, txsRoot: txsRoot(txs) } };
}

/** Two prepare votes of `validator` at `height` for different blocks, signed with `key`. */
function doubleVote(key: KeyPair, validator: string, height: number): Tx {
  const vote = (blockHash: string) => signVote(CHAIN, key, { type: 'prepare', chainId: CHAIN.chainId, height, round: 0, blockHash, validator });
  return { type: 'evidence', evidence: { kind: 'duplicate-vote', voteA: vote('aa'.repeat(32)), voteB: vote('bb'.repeat(32)) } };
}

describe('evidence against a rotated key', () => {
  // alice bonds node_5 with key K1 at height 1 (in the set from 3), then re-bonds it with K2 at height 5: the set
  // signs with K1 up to height 6 (5 + set_change_delay 2 - 1), with K2 from 7.
  function rotated() {
    const { doc, keys } = genesisOf({ accounts: [{ name: 'alice', balance: 50_000 }] });
    const alice = keys.get('alice')!;
    const k1 = keyFor('node_5');
    const k2 = keyFor('node_5-rotated');
    let s = step(genesisState(doc), [bondTx(CHAIN, alice, 'node_5', k1, 10_000, 0)]);
    s = stepTo(s, 4);
    s = step(s, [bondTx(CHAIN, alice, 'node_5', k2, 1, 1)]);
    return { s, k1, k2 };
  }

  it('slashes an offence signed with the old key just before the rotation took effect', () => {
    const { s, k1 } = rotated();
    expect(getValidator(s, 'node_5')?.publicKey).toBe(keyFor('node_5-rotated').publicKey);
    expect(s.activeSet.find((v) => v.id === 'node_5')?.publicKey).toBe(k1.publicKey); // the set of height 6 still has K1
    const s6 = step(s, []);
    const s7 = step(s6, [doubleVote(k1, 'node_5', 6)]);
    expect(getValidator(s7, 'node_5')).toMatchObject({ jailed: true, slashed: 500, stake: 9501 });
    expect(getSupply(s7).burned).toBe(500);
  });

  it('slashes an offence signed before the rotation, and the new key for offences after it', () => {
    const { s, k1, k2 } = rotated();
    const s6 = step(s, [doubleVote(k1, 'node_5', 3)]);
    expect(getValidator(s6, 'node_5')).toMatchObject({ jailed: true, slashed: 500 });
    const again = rotated().s;
    const s8 = step(stepTo(again, 7), [doubleVote(k2, 'node_5', 8)]);
    expect(getValidator(s8, 'node_5')).toMatchObject({ jailed: true, slashed: 500 });
  });

  it('refuses the old key for an offence after its last height, and a key the validator never had', () => {
    const { s, k1 } = rotated();
    const s8 = stepTo(s, 8);
    expect(validateBlock(s8, unchecked(s8, [doubleVote(k1, 'node_5', 7)]))).toMatchObject({ ok: false, code: 'EVIDENCE_BAD_SIGNATURE' });
    expect(validateBlock(s8, unchecked(s8, [doubleVote(keyFor('stranger'), 'node_5', 6)]))).toMatchObject({ ok: false, code: 'EVIDENCE_BAD_SIGNATURE' });
  });
});

describe('the key history is bounded', () => {
  it('refuses a re-bond that would retire more keys than VALIDATOR_RETIRED_KEYS_MAX within the evidence window; later it passes', () => {
    const { doc, keys } = genesisOf({ accounts: [{ name: 'alice', balance: 50_000 }], params: { evidence_max_age_blocks: 5, unbonding_delay_blocks: 7 } });
    const alice = keys.get('alice')!;
    let s = step(genesisState(doc), [bondTx(CHAIN, alice, 'node_5', keyFor('k0'), 10_000, 0)]);
    for (let i = 1; i <= VALIDATOR_RETIRED_KEYS_MAX; i++) s = step(s, [bondTx(CHAIN, alice, 'node_5', keyFor(`k${i}`), 1, i)]);
    const n = VALIDATOR_RETIRED_KEYS_MAX + 1;
    const more = bondTx(CHAIN, alice, 'node_5', keyFor(`k${n}`), 1, n);
    expect(validateBlock(s, unchecked(s, [more]))).toMatchObject({ ok: false, code: 'BOND_KEY_ROTATIONS' });
    // the same key again is a top-up, not a rotation
    expect(validateBlock(s, unchecked(s, [bondTx(CHAIN, alice, 'node_5', keyFor(`k${VALIDATOR_RETIRED_KEYS_MAX}`), 1, n)])).ok).toBe(true);
    // once the oldest retired key's evidence window has passed, it is dropped and the rotation goes through
    s = stepTo(s, s.chain.height + 6);
    expect(validateBlock(s, unchecked(s, [more])).ok).toBe(true);
  });
});

describe('evidence after an unbond', () => {
  it('with the default parameters, unbonding right after the offence still loses the slash to the evidence that lands last', () => {
    const { doc, keys } = genesisOf({ accounts: [{ name: 'alice', balance: 50_000 }] });
    const k4 = keys.get('node_4')!;
    let s = step(genesisState(doc), []); // node_4 equivocates at height 1
    s = step(s, [unbondTx(CHAIN, 'node_4', k4, 0)]); // and unbonds at height 2
    expect(getUnbonding(s)).toEqual([{ validator: 'node_4', account: k4.publicKey, amount: 10_000, releaseHeight: 2 + s.params.unbondingDelayBlocks }]);
    s = stepTo(s, 1 + s.params.evidenceMaxAgeBlocks - 1);
    s = step(s, [doubleVote(k4, 'node_4', 1)]); // the last height evidence of height 1 is accepted
    expect(getUnbonding(s)).toEqual([expect.objectContaining({ validator: 'node_4', amount: 9_500 })]);
    expect(getValidator(s, 'node_4')).toMatchObject({ jailed: true, slashed: 500 });
    expect(getSupply(s).burned).toBe(500);
  });

  it('at the smallest delay the genesis allows, an offence in the last height in the set is still slashable from the queue', () => {
    // evidence_max_age 5, set_change_delay 2: unbonding_delay must be at least 7.
    const { doc, keys } = genesisOf({ params: { evidence_max_age_blocks: 5, set_change_delay_blocks: 2, unbonding_delay_blocks: 7 } });
    const k4 = keys.get('node_4')!;
    let s = step(genesisState(doc), []);
    s = step(s, [unbondTx(CHAIN, 'node_4', k4, 0)]); // unbond at 2: node_4 still votes on height 3, released at 9
    expect(s.activeSet.map((v) => v.id)).toContain('node_4');
    s = stepTo(s, 7);
    s = step(s, [doubleVote(k4, 'node_4', 3)]); // height 8 = 3 + 5, the last one for this offence
    expect(getUnbonding(s)).toEqual([expect.objectContaining({ validator: 'node_4', amount: 9_500, releaseHeight: 9 })]);
  });
});

describe('the genesis refuses a release before the evidence can land', () => {
  const validators = [{ node_id: 'a', stake: 5000, initial_balance: 0, public_key: keyFor('a').publicKey }];

  it('a seed whose unbonding delay is shorter than evidence_max_age + set_change_delay is refused; the defaults pass', () => {
    const r = parseGenesisSeed({ chain_id: 'pop-test', validators, params: { unbonding_delay_blocks: 10, evidence_max_age_blocks: 100 } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues).toContainEqual({ path: 'params.unbonding_delay_blocks', message: 'unbonding_delay_blocks 10 is below evidence_max_age_blocks 100 + set_change_delay_blocks 2: stake would leave before evidence of its last offences can land' });
    expect(parseGenesisSeed({ chain_id: 'pop-test', validators, params: { unbonding_delay_blocks: 7, evidence_max_age_blocks: 5 } }).ok).toBe(true);
    expect(parseGenesisSeed({ chain_id: 'pop-test', validators, params: { unbonding_delay_blocks: 6, evidence_max_age_blocks: 5 } }).ok).toBe(false);
    expect(parseGenesisSeed({ chain_id: 'pop-test', validators }).ok).toBe(true);
  });

  it('a genesis document with such parameters (hashes intact) is refused at load', () => {
    const doc = buildGenesis({ chain_id: 'pop-test', validators, params: { unbonding_delay_blocks: 10, evidence_max_age_blocks: 100 } }, { z3Version: 'z3' });
    expect(checkGenesis(doc)).toMatchObject({ ok: false, code: 'GENESIS_PARAMS' });
    expect(checkGenesis(buildGenesis({ chain_id: 'pop-test', validators }, { z3Version: 'z3' }))).toEqual({ ok: true });
  });
});
