/** Error codes of the consensus module (one registry). Bad input from peers gets one of these, never a crash. */
export type ConsensusErrorCode =
  | 'MSG_MALFORMED'
  | 'MSG_TOO_LARGE'
  | 'MSG_WRONG_CHAIN'
  | 'FIELD_TYPE'
  | 'FIELD_RANGE'
  | 'ID_TOO_LONG'
  | 'HASH_MALFORMED'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_INVALID'
  | 'VALIDATOR_UNKNOWN'
  | 'PROPOSER_WRONG'
  | 'BLOCK_TOO_MANY_TXS'
  | 'BLOCK_TOO_LARGE'
  | 'BLOCK_HEIGHT_MISMATCH'
  | 'BLOCK_PREV_HASH'
  | 'BLOCK_LAST_COMMIT'
  | 'BLOCK_VALIDATORS_HASH'
  | 'BODY_MISMATCH'
  | 'CERT_HEIGHT'
  | 'CERT_BLOCK'
  | 'CERT_UNSORTED'
  | 'CERT_NO_QUORUM'
  | 'CERT_TOO_MANY'
  | 'EVIDENCE_NOT_CONFLICTING'
  | 'EVIDENCE_MALFORMED';

export interface ConsensusError {
  code: ConsensusErrorCode;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: ConsensusError };

export function fail<T>(code: ConsensusErrorCode, message: string): Checked<T> {
  return { ok: false, error: { code, message } };
}

export function okValue<T>(value: T): Checked<T> {
  return { ok: true, value };
}
