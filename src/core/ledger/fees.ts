/**
 * Proof fees (issue 11, "spam that costs"; docs/LEDGER.md "Proof fees"). A network whose genesis sets
 * `proof_fee_per_mrlimit` or `proof_fee_min` above 0 charges every proof a fee in proportion to the verification
 * budget it asks for, paid by a signed submission (ProofPayment) from an account. One function decides whether a
 * payment is good, `checkProofPayment`: the node's door calls it (with what the account already has waiting in the
 * node's pools: proof fees and bonds, pending-spend.ts) and the ledger calls it in a block (with nothing held: earlier
 * debits are in the account already), so the two cannot disagree. Integers only: every validator computes the same fee.
 */
import { isHex } from '../../crypto/hash.js';
import { budgetOf, proofRulesOf } from '../admission/envelope.js';
import { PROOF_FEE_MAX } from '../limits.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import type { Proof, ProofPayment } from '../types/proof.js';
import type { LedgerParams } from './params.js';
import { heldNote, NOTHING_HELD, pendingAccount, type Held, type PendingAccount } from './pending-spend.js';
import { proofPaymentSignBytes } from './sign-bytes.js';

/** Why a payment was refused (door and ledger alike). */
export type FeeCode =
  | 'PROOF_FEE_REQUIRED'
  | 'PROOF_PAYMENT_MALFORMED'
  | 'PROOF_FEE_TOO_LOW'
  | 'PROOF_PAYMENT_UNKNOWN_ACCOUNT'
  | 'PROOF_FEE_INSUFFICIENT_BALANCE'
  | 'PROOF_PAYMENT_BAD_SIGNATURE';

export const FEE_CODES: readonly FeeCode[] = ['PROOF_FEE_REQUIRED', 'PROOF_PAYMENT_MALFORMED', 'PROOF_FEE_TOO_LOW', 'PROOF_PAYMENT_UNKNOWN_ACCOUNT', 'PROOF_FEE_INSUFFICIENT_BALANCE', 'PROOF_PAYMENT_BAD_SIGNATURE'];

export type FeeParams = Pick<LedgerParams, 'proofFeePerMrlimit' | 'proofFeeMin' | 'rlimitDefault' | 'rlimitMax'>;

const MRLIMIT = 1_000_000;

/**
 * Whether this network charges for proofs (either fee parameter above 0).
 * @example feesOn({ proofFeePerMrlimit: 10 }) === true
 */
export function feesOn(params: Pick<LedgerParams, 'proofFeePerMrlimit' | 'proofFeeMin'>): boolean {
  return (params.proofFeePerMrlimit ?? 0) > 0 || (params.proofFeeMin ?? 0) > 0;
}

/**
 * The least fee a proof pays: max(proof_fee_min, ceil(budget * proof_fee_per_mrlimit / 1e6)), budget being the
 * proof's rlimit or the network's default; 0 when fees are off. Exact (limits.ts bounds the product below 2^53).
 * @example proofFee({ proofFeePerMrlimit: 10, proofFeeMin: 1, rlimitDefault: 5e6, rlimitMax: 5e7 }, { smtlib: '', claim: 'sat', rlimit: 2e6 }) === 20
 */
export function proofFee(params: FeeParams, proof: Proof): number {
  if (!feesOn(params)) return 0;
  const perMrlimit = params.proofFeePerMrlimit ?? 0;
  const budget = budgetOf(proof, proofRulesOf(params));
  const proportional = Math.floor((budget * perMrlimit + MRLIMIT - 1) / MRLIMIT);
  return Math.max(params.proofFeeMin ?? 0, proportional);
}

/**
 * What a proof pays per unit of its budget (fee / budget; 0 without a payment): the order in which a validator
 * verifies the proofs it has waiting (src/core/pool/budget-queue.ts), as the mempool orders them for blocks.
 * @example feePerBudget(params, { smtlib, claim: 'sat', rlimit: 2e6 }, { account, fee: 40, signature }) === 2e-5
 */
export function feePerBudget(params: FeeParams, proof: Proof, payment: { fee: number } | undefined): number {
  if (payment === undefined) return 0;
  return payment.fee / Math.max(1, budgetOf(proof, proofRulesOf(params)));
}

/** What checkProofPayment reads: the network (for the signature), its fee parameters, a signature check. */
export interface FeeView {
  network: SignNetwork;
  params: FeeParams;
  verifySig: (publicKey: string, message: Uint8Array, signature: string) => boolean;
}

export type PaymentResult = { ok: true; fee: number; account: string | null } | { ok: false; code: FeeCode; message: string };

function isPayment(value: unknown): value is ProofPayment {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const p = value as Record<string, unknown>;
  if (Object.keys(p).some((k) => k !== 'account' && k !== 'fee' && k !== 'signature')) return false;
  return isHex(p.account, 32) && typeof p.fee === 'number' && Number.isSafeInteger(p.fee) && p.fee >= 0 && p.fee <= PROOF_FEE_MAX && isHex(p.signature, 64);
}

/**
 * Whether an account, once what the pools hold from it applies, still pays `fee`: null if so, else the refusal. The
 * balance rule of `checkProofPayment`, also run on what a mempool holds after each commit (mempool.ts ledgerAfford).
 * @example checkFeeBalance(pendingAccount({ balance: 100, nonce: 0 }, { txs: 0, stake: 0, fees: 60 })!, 50)?.code === 'PROOF_FEE_INSUFFICIENT_BALANCE'
 */
export function checkFeeBalance(account: PendingAccount, fee: number): { ok: false; code: FeeCode; message: string } | null {
  if (account.spendable >= fee) return null;
  const held = account.held.txs + account.held.stake + account.held.fees === 0 ? '' : ` (${account.committed.balance} less ${heldNote(account.held)})`;
  return { ok: false, code: 'PROOF_FEE_INSUFFICIENT_BALANCE', message: `balance ${account.spendable}${held} is below the fee ${fee}` };
}

/**
 * Check a proof's payment against the paying account as it will be once what the pools already `held` from it applies
 * (the door: its pending bonds and proof fees at this node; the ledger: nothing). No payment: fine where fees are off
 * (fee 0), PROOF_FEE_REQUIRED where on.
 * @param account the paying account in the ledger, undefined if it does not exist (or no payment).
 * @example checkProofPayment(view, proof, proofId(proof), payment, getAccount(state, payment.account))
 */
export function checkProofPayment(view: FeeView, proof: Proof, id: string, payment: unknown, account: { balance: number; nonce: number } | undefined, held: Held = NOTHING_HELD): PaymentResult {
  const required = proofFee(view.params, proof);
  if (payment === undefined) {
    if (required === 0) return { ok: true, fee: 0, account: null };
    return { ok: false, code: 'PROOF_FEE_REQUIRED', message: `this network charges ${required} for this proof (proof_fee_per_mrlimit ${view.params.proofFeePerMrlimit ?? 0}, proof_fee_min ${view.params.proofFeeMin ?? 0}): send a signed submission with a payment from a funded account (submit-proof --key FILE)` };
  }
  if (!isPayment(payment)) return { ok: false, code: 'PROOF_PAYMENT_MALFORMED', message: `payment is { account: 32-byte hex, fee: integer 0..${PROOF_FEE_MAX}, signature: 64-byte hex } and nothing else` };
  if (payment.fee < required) return { ok: false, code: 'PROOF_FEE_TOO_LOW', message: `fee ${payment.fee} is below ${required}, this network's fee for a budget of ${budgetOf(proof, proofRulesOf(view.params))} rlimit` };
  const pending = pendingAccount(account, held);
  if (!pending) return { ok: false, code: 'PROOF_PAYMENT_UNKNOWN_ACCOUNT', message: `account ${payment.account} does not exist: fund it before it pays for proofs` };
  const poor = checkFeeBalance(pending, payment.fee);
  if (poor) return poor;
  if (!view.verifySig(payment.account, proofPaymentSignBytes(view.network, { proofId: id, account: payment.account, fee: payment.fee }), payment.signature)) {
    return { ok: false, code: 'PROOF_PAYMENT_BAD_SIGNATURE', message: `payment signature does not verify against account ${payment.account.slice(0, 16)}… for this proof id on chain ${view.network.chainId}` };
  }
  return { ok: true, fee: payment.fee, account: payment.account };
}
