/**
 * The consensus module's hashing and signature checks, as the ledger uses them. One place to point at
 * src/core/consensus, so the ledger and the receipts verify exactly what consensus signs.
 */
export {
  hashHeader,
  hashCertificate,
  hashValidatorSet,
  verifyCertificate,
  verifyEvidence,
  evidenceOffender,
  hashEvidence,
  voteSignBytes,
  ZERO_HASH,
} from '../consensus/messages.js';
