/**
 * The mempool: admitted proofs waiting to be ordered. Bounded by count, by bytes and by age (a TTL after which
 * `expire` takes an entry out), deduplicated by proof id, ordered by fee per unit of verification budget (highest
 * first, ties by arrival: with no fees, oldest first). When full, a newcomer that pays strictly more per budget than
 * the cheapest entries evicts them (returned in `evicted`, so the node records why); one that does not is refused
 * MEMPOOL_FULL. Admission (the verifier's door checks: sizes, balanced s-expressions, command allow-list) and the
 * fee check (`price`, fees.ts over the node's ledger) are injected by the caller, so this module never decides what
 * is well-formed or funded; after each commit `recheck` drops the paid entries their accounts can no longer pay. Pure (no Node built-ins): the simulator runs the same code.
 */
import { utf8Length } from '../admission/admit.js';
import { budgetOf, proofRulesOf } from '../admission/envelope.js';
import { checkFeeBalance, checkProofPayment } from '../ledger/fees.js';
import type { SigVerifier } from '../ledger/attest-rule.js';
import { NOTHING_HELD, pendingAccount, sumHeld, type Held } from '../ledger/pending-spend.js';
import { proofBytesRoom, submitTxBytes } from './candidates.js';
import { getAccount, ledgerNetwork, type LedgerState } from '../ledger/state.js';
import { MEMPOOL_BYTES_MAX, MEMPOOL_PROOF_TTL_MS, MEMPOOL_PROOFS_MAX, MEMPOOL_TAKE_SCAN_MAX } from '../limits.js';
import { encodeProof, proofId, type Proof, type ProofPayment } from '../types/proof.js';
import { isHex } from '../../crypto/hash.js';
import { verify } from '../../crypto/ed25519.js';
import type { Afford, BudgetLimit, Mempool, MempoolAddResult, MempoolDrop, MempoolEntry } from '../../ports/mempool.js';

/** The admission check at the door: ok, or a stable code and a message a person can act on. */
export type AdmitProof = (proof: Proof) => { ok: true } | { ok: false; code: string; message: string };

/** A proof's price: the fee it pays and the budget (rlimit) it buys; its rank is fee / budget. */
export interface Price {
  fee: number;
  budget: number;
  /** The paying account, null for an unpaid proof. */
  account: string | null;
}

/** A refusal at the door: a stable code and a message a person can act on. */
export type DoorRefusal = { ok: false; code: string; message: string };

/**
 * The fee check at the door: the proof's price, or a refusal (a FeeCode). `pendingFees(account)` is what that account
 * already has waiting in this mempool, so one balance cannot back more proofs than it can pay for. A price may leave
 * its costly part (the payment's signature) to `confirm`, which the mempool runs only once the proof is known to fit
 * (not a duplicate, not MEMPOOL_FULL at its fee): under a flood at the least fee, the proofs refused for room cost no
 * signature check. Nothing enters without `confirm` passing.
 */
export type PriceProof = (proof: Proof, id: string, payment: ProofPayment | undefined, pendingFees: (account: string) => number) => ({ ok: true; confirm?: () => { ok: true } | DoorRefusal } & Price) | DoorRefusal;

/** No fee check (tests, tools without a ledger): every proof is unpaid and ranks by arrival alone. */
const UNPRICED: PriceProof = () => ({ ok: true, fee: 0, budget: 1, account: null });

/**
 * The node's fee check: fees.ts `checkProofPayment` over the ledger as `state()` gives it now, the very rule the
 * ledger applies when the proof is put in a block, against the paying account's pending-spend view (pending-spend.ts):
 * the fees it has waiting in this mempool and what `heldElsewhere` (the node's tx pool: its pending bonds) holds.
 * `verifySig` checks the payment's signature (Ed25519; the simulator passes its memoizing verifier, the same answers).
 * @example createMempool({ admit, price: ledgerPrice(() => node.state(), (a) => txPool.held(a)), nowMs })
 */
export function ledgerPrice(state: () => LedgerState, heldElsewhere: (account: string) => Held = () => NOTHING_HELD, verifySig: SigVerifier = verify): PriceProof {
  return (proof, id, payment, pendingFees) => {
    const s = state();
    const account = payment !== undefined && isHex(payment.account, 32) ? payment.account : null;
    const network = ledgerNetwork(s);
    const held = account === null ? NOTHING_HELD : sumHeld({ txs: 0, stake: 0, fees: pendingFees(account) }, heldElsewhere(account));
    const committed = account === null ? undefined : getAccount(s, account);
    // Every cheap part of the ledger's rule now, the signature (its last step) deferred to `confirm`.
    let signed = false;
    const paid = checkProofPayment({ network, params: s.params, verifySig: () => { signed = true; return true; } }, proof, id, payment, committed, held);
    if (!paid.ok) return paid;
    // The door's PROOF_TOO_LARGE_FOR_BLOCK (intake.ts doorFor) measured the proof alone; its payment rides in the block too.
    const bytes = payment === undefined ? 0 : submitTxBytes(proof, payment);
    if (bytes > proofBytesRoom(s.params)) return { ok: false, code: 'PROOF_TOO_LARGE_FOR_BLOCK', message: `the proof with its payment takes ${bytes} bytes in a block; this network's blocks hold ${proofBytesRoom(s.params)} bytes of proofs (half of block_bytes_max)` };
    const priced = { ok: true as const, fee: paid.fee, budget: budgetOf(proof, proofRulesOf(s.params)), account: paid.account };
    if (!signed) return priced;
    // The whole rule again with the real signature check (the mempool calls this synchronously, on the same state).
    return { ...priced, confirm: () => {
      const checked = checkProofPayment({ network, params: s.params, verifySig }, proof, id, payment, committed, held);
      return checked.ok ? { ok: true } : checked;
    } };
  };
}

/**
 * The balance rule of `ledgerPrice` for what the mempool already holds, after a commit (`Mempool.recheck`): the
 * account as `state()` has it, less what `heldElsewhere` (the tx pool) and the fees kept before it hold. No signature
 * is checked again (the door did; the payment is bound to the proof id).
 * @example pool.recheck(ledgerAfford(() => node.state(), (a) => txPool.held(a)))
 */
export function ledgerAfford(state: () => LedgerState, heldElsewhere: (account: string) => Held = () => NOTHING_HELD): Afford {
  const s = state();
  // One ledger read and one tx-pool lookup per account, however many proofs it has waiting.
  const known = new Map<string, { committed: ReturnType<typeof getAccount>; elsewhere: Held }>();
  return (account, feesBefore, fee) => {
    let k = known.get(account);
    if (k === undefined) {
      k = { committed: getAccount(s, account), elsewhere: heldElsewhere(account) };
      known.set(account, k);
    }
    const pending = pendingAccount(k.committed, sumHeld({ txs: 0, stake: 0, fees: feesBefore }, k.elsewhere));
    if (!pending) return { ok: false, code: 'PROOF_PAYMENT_UNKNOWN_ACCOUNT', message: `account ${account} does not exist` };
    return checkFeeBalance(pending, fee) ?? { ok: true };
  };
}

export interface MempoolOptions {
  admit: AdmitProof;
  /** The fee check (default: none, every proof unpaid). */
  price?: PriceProof;
  /** When an entry was added (its `addedAtMs`): the node passes its clock. */
  nowMs: () => number;
  proofsMax?: number;
  bytesMax?: number;
  /**
   * Bound on the sum of the entries' budgets (their price's `budget`, the rlimit a fee pays for); default none. The
   * node sets MEMPOOL_BACKLOG_BLOCKS blocks of block_rlimit_max when the genesis sets a block budget: a backlog
   * deeper than that would wait that many blocks anyway, so a flood at the least fee is refused at the door
   * (MEMPOOL_FULL, before gossip and every peer's admission) while a proof paying more per budget evicts its cheapest.
   */
  budgetMax?: number;
  /** Age at which `expire` takes an entry out (default MEMPOOL_PROOF_TTL_MS). */
  ttlMs?: number;
}

/** An entry with its rank: price, and arrival order in this pool. */
interface Slot extends Price {
  entry: MempoolEntry;
  seq: number;
}

/** Negative when `a` ranks before `b`: more fee per budget (exact, in BigInt), then earlier arrival. */
function rank(a: Slot, b: Slot): number {
  const left = BigInt(a.fee) * BigInt(b.budget);
  const right = BigInt(b.fee) * BigInt(a.budget);
  if (left !== right) return left > right ? -1 : 1;
  return a.seq - b.seq;
}

/** Whether `a` pays strictly more per budget than `b`. */
const paysMore = (a: Price, b: Price): boolean => BigInt(a.fee) * BigInt(b.budget) > BigInt(b.fee) * BigInt(a.budget);

/** Index in `order` (sorted by rank) at which `slot` is, or would be inserted. */
function search(order: readonly Slot[], slot: Slot): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rank(order[mid] as Slot, slot) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The payment's own bytes as JSON (it travels with the proof: gossip, store, block). */
const paymentBytes = (payment: ProofPayment | undefined): number => (payment === undefined ? 0 : utf8Length(JSON.stringify(payment)));

/** The pool's entries by rank (best first), with their count, bytes and the fees waiting per paying account. */
class RankedSlots {
  readonly byId = new Map<string, Slot>();
  /** Every slot, best rank first. */
  readonly order: Slot[] = [];
  private readonly fees = new Map<string, number>();
  bytes = 0;
  /** Sum of the slots' budgets. */
  budget = 0;
  /** Slots that carry a payment (account not null). */
  paid = 0;

  pendingFees(account: string): number {
    return this.fees.get(account) ?? 0;
  }

  insert(slot: Slot): void {
    this.order.splice(search(this.order, slot), 0, slot);
    this.byId.set(slot.entry.id, slot);
    this.bytes += slot.entry.bytes;
    this.budget += slot.budget;
    if (slot.account === null) return;
    this.paid++;
    this.fees.set(slot.account, this.pendingFees(slot.account) + slot.fee);
  }

  drop(slot: Slot): void {
    const at = search(this.order, slot);
    if (this.order[at] !== slot) throw new Error(`mempool: ${slot.entry.id} not at its rank`);
    this.order.splice(at, 1);
    this.byId.delete(slot.entry.id);
    this.bytes -= slot.entry.bytes;
    this.budget -= slot.budget;
    if (slot.account === null) return;
    this.paid--;
    const left = this.pendingFees(slot.account) - slot.fee;
    if (left > 0) this.fees.set(slot.account, left);
    else this.fees.delete(slot.account);
  }

  /** The cheapest slots `slot` may evict to fit the bounds (each paying strictly less per budget), or null if it cannot fit. */
  victimsFor(slot: Slot, proofsMax: number, bytesMax: number, budgetMax: number): Slot[] | null {
    const victims: Slot[] = [];
    let count = this.byId.size + 1;
    let total = this.bytes + slot.entry.bytes;
    let budget = this.budget + slot.budget;
    const over = (): boolean => count > proofsMax || total > bytesMax || budget > budgetMax;
    for (let i = this.order.length - 1; i >= 0 && over(); i--) {
      const cheapest = this.order[i] as Slot;
      if (!paysMore(slot, cheapest)) return null;
      victims.push(cheapest);
      count--;
      total -= cheapest.entry.bytes;
      budget -= cheapest.budget;
    }
    return over() ? null : victims;
  }
}

/**
 * Create a bounded mempool.
 * @example const pool = createMempool({ admit: admitProof, price: ledgerPrice(() => state), nowMs: () => clock.nowMs() });
 */
export function createMempool(options: MempoolOptions): Mempool & { close(): void } {
  const proofsMax = options.proofsMax ?? MEMPOOL_PROOFS_MAX;
  const bytesMax = options.bytesMax ?? MEMPOOL_BYTES_MAX;
  const budgetMax = options.budgetMax ?? Number.POSITIVE_INFINITY;
  const ttlMs = options.ttlMs ?? MEMPOOL_PROOF_TTL_MS;
  const price = options.price ?? UNPRICED;
  const slots = new RankedSlots();
  let seq = 0;
  let closed = false;

  return {
    add(proof: Proof, ageMs = 0, payment?: ProofPayment): MempoolAddResult {
      const id = proofId(proof);
      if (closed) return { ok: false, id, code: 'MEMPOOL_CLOSED' };
      if (slots.byId.has(id)) return { ok: true, id, duplicate: true };
      const admitted = options.admit(proof);
      if (!admitted.ok) return { ok: false, id, code: admitted.code, message: admitted.message, admission: true };
      const priced = price(proof, id, payment, (account) => slots.pendingFees(account));
      if (!priced.ok) return { ok: false, id, code: priced.code, message: priced.message, admission: true };
      const entry: MempoolEntry = { id, proof, bytes: utf8Length(encodeProof(proof)) + paymentBytes(payment), addedAtMs: options.nowMs() - Math.max(0, ageMs) };
      if (payment !== undefined) entry.payment = payment;
      const slot: Slot = { entry, seq: seq++, fee: priced.fee, budget: priced.budget, account: priced.account };
      const victims = slots.victimsFor(slot, proofsMax, bytesMax, budgetMax);
      // Refused for room before its signature is checked: a proof that would not get in at its fee costs no verification.
      if (victims === null) return { ok: false, id, code: 'MEMPOOL_FULL' };
      const confirmed = priced.confirm?.() ?? { ok: true };
      if (!confirmed.ok) return { ok: false, id, code: confirmed.code, message: confirmed.message, admission: true };
      for (const victim of victims) slots.drop(victim);
      slots.insert(slot);
      if (victims.length === 0) return { ok: true, id, duplicate: false };
      return { ok: true, id, duplicate: false, evicted: victims.map((v) => ({ entry: v.entry, fee: v.fee, budget: v.budget, byFee: slot.fee, byBudget: slot.budget })) };
    },
    has: (id) => slots.byId.has(id),
    get: (id) => slots.byId.get(id)?.entry,
    take(limitCount: number, limitBytes: number, limitBudget?: BudgetLimit): MempoolEntry[] {
      const out: MempoolEntry[] = [];
      let taken = 0;
      let budget = 0;
      let scanned = 0;
      for (const { entry } of slots.order) {
        if (out.length >= limitCount || scanned >= MEMPOOL_TAKE_SCAN_MAX) break;
        if (limitBudget !== undefined && budget >= limitBudget.max) break; // full: nothing more fits
        if (limitBudget?.fillTo !== undefined && out.length > 0 && budget >= limitBudget.fillTo) break; // the proposer's backpressure
        scanned++;
        // Skip, do not stop: one large entry at the head must not keep every smaller one behind it out.
        if (taken + entry.bytes > limitBytes) continue;
        const cost = limitBudget === undefined ? 0 : limitBudget.of(entry.proof);
        if (limitBudget !== undefined && budget + cost > limitBudget.max) continue;
        out.push(entry);
        taken += entry.bytes;
        budget += cost;
      }
      return out;
    },
    expire(): MempoolEntry[] {
      const now = options.nowMs();
      const expired = [...slots.byId.values()].filter((slot) => now - slot.entry.addedAtMs >= ttlMs).sort((a, b) => a.entry.addedAtMs - b.entry.addedAtMs);
      for (const slot of expired) slots.drop(slot);
      return expired.map((slot) => slot.entry);
    },
    pendingFees: (account) => slots.pendingFees(account),
    recheck(afford: Afford): MempoolDrop[] {
      const dropped: MempoolDrop[] = [];
      // Nothing paid waits (every network whose genesis sets no fee): no walk of the whole pool at each commit.
      if (slots.paid === 0) return dropped;
      const kept = new Map<string, number>();
      // Best rank first: a block takes them in this order, so the cheapest are the ones an account can no longer pay.
      for (const slot of [...slots.order]) {
        if (slot.account === null) continue;
        const before = kept.get(slot.account) ?? 0;
        const verdict = afford(slot.account, before, slot.fee);
        if (verdict.ok) kept.set(slot.account, before + slot.fee);
        else {
          slots.drop(slot);
          dropped.push({ entry: slot.entry, code: verdict.code, message: verdict.message });
        }
      }
      return dropped;
    },
    remove(ids: readonly string[]): void {
      for (const id of ids) {
        const slot = slots.byId.get(id);
        if (slot) slots.drop(slot);
      }
    },
    size: () => slots.byId.size,
    bytes: () => slots.bytes,
    close(): void {
      closed = true;
    },
  };
}
