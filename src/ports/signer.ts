/**
 * Signing of consensus messages, injected: SafetyRules (src/core/safety) over a file SafetyStore in the node, over
 * an in-memory one in the simulator; Byzantine wrappers in the simulator.
 */
import type { SignRequest, SignResult } from '../core/safety/safety-rules.js';

/** Sign a proposal or vote, or refuse with a typed code (never two conflicting signatures). */
export interface SignerPort {
  sign(request: SignRequest): SignResult;
}
