/**
 * Signed proof submissions (docs/API_REFERENCE.md "Proof fees"): the fee a network charges for a proof, read from
 * its GET /genesis, and the body POST /proofs takes with a payment signed by the paying account. The fee is the
 * ledger's own function (src/core/ledger/fees.ts proofFee), so the client never guesses a different figure.
 *
 * @example
 *   const genesis = await node.getGenesis();
 *   const body = payForProof({ smtlib, claim: 'unsat' }, genesis, account.secretKey);
 *   await node.submitProof(body);
 */
import type { GenesisResponse, SubmitProofBody } from '../api/schemas.js';
import { proofFee } from '../core/ledger/fees.js';
import { proofPaymentSignBytes } from '../core/ledger/sign-bytes.js';
import { PROOF_RLIMIT_MAX } from '../core/limits.js';
import { proofId, type Proof } from '../core/types/proof.js';
import { publicKeyOf, sign } from '../crypto/ed25519.js';

/** The network as GET /genesis describes it: its id and hash (what a payment is bound to) and its proof fee, if any. */
export type FeeNetwork = Pick<GenesisResponse, 'chainId' | 'genesisHash' | 'proofFee'>;

const proofOf = (body: SubmitProofBody): Proof => {
  const proof: Proof = { smtlib: body.smtlib, claim: body.claim };
  if (body.rlimit !== undefined) proof.rlimit = body.rlimit;
  if (body.model !== undefined) proof.model = body.model;
  return proof;
};

/**
 * The least fee `network` charges for this proof (0 where it charges none).
 * @example requiredProofFee({ chainId, genesisHash, proofFee: { perMrlimit: 10, min: 1, rlimitDefault: 5e6 } }, { smtlib, claim: 'sat' }) === 50
 */
export function requiredProofFee(network: FeeNetwork, body: SubmitProofBody): number {
  const f = network.proofFee;
  if (f === undefined) return 0;
  return proofFee({ proofFeePerMrlimit: f.perMrlimit, proofFeeMin: f.min, rlimitDefault: f.rlimitDefault, rlimitMax: PROOF_RLIMIT_MAX }, proofOf(body));
}

/**
 * `body` with a payment from the account of `secretKey`: `fee` (default: the network's fee for this proof), signed
 * over (network, proof id, account, fee).
 * @throws TypeError when secretKey is not a 32-byte hex key.
 * @example payForProof({ smtlib, claim: 'unsat', rlimit: 2_000_000 }, genesis, secretKey, 500)
 */
export function payForProof(body: SubmitProofBody, network: FeeNetwork, secretKey: string, fee: number = requiredProofFee(network, body)): SubmitProofBody {
  const account = publicKeyOf(secretKey);
  const id = proofId(proofOf(body));
  const signature = sign(secretKey, proofPaymentSignBytes(network, { proofId: id, account, fee }));
  return { ...body, payment: { account, fee, signature } };
}
