/**
 * The ledger's invariants, checked by the simulator's checkers between the agreed states of two successive heights
 * (a broken rule shows at the height that breaks it, not only as a fork):
 * - the height grows by one;
 * - supply is conserved: genesis + minted - burned = account balances + bonded stake + stake still unbonding + proof
 *   fees held in escrow until their window closes + challenge bonds held until the whole set's verdict;
 *   genesis never changes, minted and burned never shrink;
 * - no negative or fractional amount (balances, stakes, unbonding amounts);
 * - nonces only grow (accounts and validators);
 * - a validator's counters only grow (rewards, penalties, slashed, proposed, rounds, matched, compared, missed; matched
 *   may shrink only on a network that takes challenges, when one overturns a verdict it matched), matched <= compared,
 *   and a jailed validator stays jailed;
 * - a final verdict never changes, and a proof never goes back to pending, except a committee's verdict that a
 *   challenge in this very block sends to the whole set (docs/LEDGER.md "Challenges"), once.
 * Pure.
 */
import { smtEntries } from '../core/ledger/smt.js';
import { challengesOn } from '../core/ledger/params.js';
import type { Account, LedgerState, ProofRecord, Supply, Unbonding, ValidatorRecord } from '../core/ledger/state.js';

/** What the invariants read from one state (one pass over its tree). */
interface LedgerView {
  height: number;
  supply: Supply;
  accounts: Map<string, Account>;
  validators: Map<string, ValidatorRecord>;
  proofs: Map<string, ProofRecord>;
  unbonding: Unbonding[];
}

const views = new WeakMap<LedgerState, LedgerView>();

/** One pass over the state's tree (memoized per state: a state is checked as `next`, then as `prev`). */
function viewOf(state: LedgerState): LedgerView {
  let view = views.get(state);
  if (view) return view;
  view = { height: state.chain.height, supply: { genesis: 0, minted: 0, burned: 0 }, accounts: new Map(), validators: new Map(), proofs: new Map(), unbonding: [] };
  for (const [key, value] of smtEntries(state.tree)) {
    if (key.startsWith('account/')) view.accounts.set(key.slice(8), value as unknown as Account);
    else if (key.startsWith('validator/')) view.validators.set(key.slice(10), value as unknown as ValidatorRecord);
    else if (key.startsWith('proof/')) view.proofs.set(key.slice(6), value as unknown as ProofRecord);
    else if (key === 'supply') view.supply = value as unknown as Supply;
    else if (key === 'unbonding') view.unbonding = value as unknown as Unbonding[];
  }
  views.set(state, view);
  return view;
}

function isAmount(n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Counters of a validator record that never go down. */
const MONOTONE: readonly (keyof ValidatorRecord)[] = ['rewards', 'penalties', 'slashed', 'proposed', 'roundsParticipated', 'matched', 'compared', 'missed', 'abstained', 'unrevealed', 'uncompared'];

/**
 * The invariants `next` breaks, given the state `prev` of the height before it (empty: none).
 * @example ledgerInvariantProblems(s0, applyBlock(s0, block)) // []
 */
export function ledgerInvariantProblems(prev: LedgerState, next: LedgerState): string[] {
  const a = viewOf(prev);
  const b = viewOf(next);
  const out: string[] = [];
  if (b.height !== a.height + 1) out.push(`height ${b.height} follows ${a.height}`);
  out.push(...supplyProblems(b));
  if (b.supply.genesis !== a.supply.genesis) out.push(`genesis supply changed from ${a.supply.genesis} to ${b.supply.genesis}`);
  if (b.supply.minted < a.supply.minted || b.supply.burned < a.supply.burned) out.push(`minted or burned went down (${a.supply.minted}/${a.supply.burned} -> ${b.supply.minted}/${b.supply.burned})`);
  for (const [address, acc] of b.accounts) {
    if (!isAmount(acc.balance)) out.push(`account ${address.slice(0, 12)} balance ${acc.balance}`);
    const before = a.accounts.get(address);
    if (before && acc.nonce < before.nonce) out.push(`account ${address.slice(0, 12)} nonce went from ${before.nonce} to ${acc.nonce}`);
  }
  const monotone = challengesOn(next.params) ? MONOTONE.filter((k) => k !== 'matched') : MONOTONE;
  for (const [id, v] of b.validators) out.push(...validatorProblems(id, a.validators.get(id), v, monotone));
  for (const [id, p] of a.proofs) {
    const q = b.proofs.get(id);
    if (p.status === 'pending') continue;
    // Challenged in this block: the committee's verdict, final before, goes to the whole set (recorded as disputed).
    if (p.challenge === undefined && q?.challenge !== undefined && q.challenge.height === b.height && p.status === 'final' && q.challenge.committeeVerdict === p.verdict) continue;
    if (!q || q.status === 'pending') out.push(`proof ${id.slice(0, 12)} went from ${p.status} back to ${q ? 'pending' : 'absent'}`);
    else if (q.verdict !== p.verdict) out.push(`final verdict of proof ${id.slice(0, 12)} changed from ${p.verdict} to ${q.verdict}`);
  }
  return out;
}

/** Supply conservation and amounts of one state. */
function supplyProblems(v: LedgerView): string[] {
  const out: string[] = [];
  let tokens = 0;
  for (const acc of v.accounts.values()) tokens += acc.balance;
  for (const val of v.validators.values()) tokens += val.stake;
  for (const u of v.unbonding) {
    if (!isAmount(u.amount)) out.push(`unbonding of ${u.validator} amount ${u.amount}`);
    tokens += u.amount;
  }
  for (const [id, p] of v.proofs) {
    if (p.fee === undefined) continue;
    if (!isAmount(p.fee) || p.status === 'closed') out.push(`proof ${id.slice(0, 12)} holds fee ${p.fee} while ${p.status}`);
    tokens += p.fee;
  }
  for (const [id, p] of v.proofs) {
    if (p.challenge === undefined || p.challenge.outcome !== undefined) continue;
    if (!isAmount(p.challenge.bond) || p.status !== 'pending') out.push(`proof ${id.slice(0, 12)} holds challenge bond ${p.challenge.bond} while ${p.status}`);
    tokens += p.challenge.bond;
  }
  const expected = v.supply.genesis + v.supply.minted - v.supply.burned;
  if (tokens !== expected) out.push(`supply not conserved at height ${v.height}: balances + stake + unbonding + fees and bonds held = ${tokens}, genesis + minted - burned = ${expected}`);
  return out;
}

/** A validator record against its previous one. */
function validatorProblems(id: string, before: ValidatorRecord | undefined, v: ValidatorRecord, monotone: readonly (keyof ValidatorRecord)[]): string[] {
  const out: string[] = [];
  if (!isAmount(v.stake)) out.push(`validator ${id} stake ${v.stake}`);
  if (v.matched > v.compared) out.push(`validator ${id} matched ${v.matched} of ${v.compared} compared`);
  if (!before) return out;
  if (v.nonce < before.nonce) out.push(`validator ${id} nonce went from ${before.nonce} to ${v.nonce}`);
  if (before.jailed && !v.jailed) out.push(`validator ${id} left jail`);
  for (const k of monotone) if ((v[k] as number) < (before[k] as number)) out.push(`validator ${id} ${k} went from ${before[k]} to ${v[k]}`);
  return out;
}
