/** Ledger error codes: one registry. Stable strings; clients and peers see them. */
export type LedgerErrorCode =
  // block level
  | 'BLOCK_CHAIN_ID'
  | 'BLOCK_HEIGHT'
  | 'BLOCK_PREV_HASH'
  | 'BLOCK_STATE_ROOT'
  | 'BLOCK_RESULTS_ROOT'
  | 'BLOCK_VALIDATORS_HASH'
  | 'BLOCK_PROPOSER'
  | 'BLOCK_TOO_MANY_TXS'
  | 'BLOCK_TOO_MANY_PROOFS'
  | 'BLOCK_RLIMIT_OVER_BUDGET'
  | 'BLOCK_TOO_MANY_EVIDENCE'
  | 'BLOCK_TOO_LARGE'
  | 'BLOCK_LAST_COMMIT'
  | 'BLOCK_VRF_PROOF'
  // transactions
  | 'TX_MALFORMED'
  | 'TX_BAD_SIGNATURE'
  | 'TX_BAD_NONCE'
  | 'PROOF_MALFORMED'
  | 'PROOF_TOO_LARGE'
  | 'PROOF_RLIMIT_ABOVE_CAP'
  | 'PROOF_DUPLICATE'
  // proof fees (fees.ts FeeCode: the door refuses with the same codes)
  | 'PROOF_FEE_REQUIRED'
  | 'PROOF_PAYMENT_MALFORMED'
  | 'PROOF_FEE_TOO_LOW'
  | 'PROOF_PAYMENT_UNKNOWN_ACCOUNT'
  | 'PROOF_FEE_INSUFFICIENT_BALANCE'
  | 'PROOF_PAYMENT_BAD_SIGNATURE'
  | 'ATTEST_NOT_IN_SET'
  | 'ATTEST_EMPTY'
  | 'ATTEST_TOO_MANY'
  | 'ATTEST_NOT_SORTED'
  | 'ATTEST_UNKNOWN_PROOF'
  | 'ATTEST_SAME_BLOCK'
  | 'ATTEST_WINDOW_CLOSED'
  | 'ATTEST_DUPLICATE'
  | 'ATTEST_COMMIT_CLOSED'
  | 'ATTEST_REVEAL_EARLY'
  | 'ATTEST_REVEAL_NO_COMMIT'
  | 'ATTEST_REVEAL_MISMATCH'
  | 'ATTEST_NOT_ON_COMMITTEE'
  | 'BOND_INSUFFICIENT_STAKE'
  | 'BOND_INSUFFICIENT_BALANCE'
  | 'BOND_UNKNOWN_ACCOUNT'
  | 'BOND_VALIDATOR_OWNED'
  | 'BOND_JAILED'
  | 'BOND_SET_FULL'
  | 'BOND_BAD_ID'
  | 'BOND_BAD_ADDRESS'
  | 'BOND_KEY_NOT_PROVEN'
  | 'BOND_KEY_IN_USE'
  | 'BOND_KEY_ROTATIONS'
  | 'UNBOND_UNKNOWN_VALIDATOR'
  | 'UNBOND_NOT_BONDED'
  | 'UNBOND_LAST_VALIDATOR'
  | 'EVIDENCE_INVALID'
  | 'EVIDENCE_BAD_SIGNATURE'
  | 'EVIDENCE_TOO_OLD'
  | 'EVIDENCE_UNKNOWN_VALIDATOR'
  | 'EVIDENCE_DUPLICATE'
  // receipts
  | 'RECEIPT_MALFORMED'
  | 'RECEIPT_CHAIN_ID'
  | 'RECEIPT_LEAF'
  | 'RECEIPT_MERKLE_PROOF'
  | 'RECEIPT_HEADER_HASH'
  | 'RECEIPT_CERTIFICATE'
  | 'RECEIPT_QUORUM'
  | 'RECEIPT_SET_UNKNOWN'
  | 'RECEIPT_SET_STEP'
  | 'RECEIPT_TRUST';

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    /** Index of the offending transaction in its block, when there is one. */
    readonly txIndex?: number,
  ) {
    super(`${code}: ${message}`);
  }
}
