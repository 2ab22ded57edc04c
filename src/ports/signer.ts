/**
 * Signing of consensus messages, injected: SafetyRules (src/core/safety) over a file SafetyStore in the node, over
 * an in-memory one in the simulator; Byzantine wrappers in the simulator.
 */
import type { SignRequest, SignResult } from '../core/safety/safety-rules.js';

/** Sign a proposal or vote, or refuse with a typed code (never two conflicting signatures). */
export interface SignerPort {
  sign(request: SignRequest): SignResult;
  /**
   * The ECVRF proof (hex, src/crypto/vrf.ts) of this validator's consensus key over `alpha`: needed by a proposer
   * under `proposer_election: vrf` (the driver asks when the core's request-payload carries vrfAlpha). Deterministic:
   * one key and input have one proof, so it needs no record of what was proved.
   */
  vrfProve?(alpha: Uint8Array): string;
}
