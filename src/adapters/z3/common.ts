/**
 * What the pool and the inline verifier share: typed errors, the verifier context, the bounded verdict cache,
 * and the step from a proof to a job (admission, then the exact script).
 */
import { createRequire } from 'node:module';
import { admitProof, type AdmittedProof } from '../../core/admission/admit.js';
import { DEFAULT_PROOF_RULES, type ProofRules } from '../../core/admission/envelope.js';
import { isAdmissionError } from '../../core/admission/errors.js';
import {
  BITVECTOR_WIDTH_MAX,
  COMMANDS_MAX,
  PROOF_MODEL_BYTES_MAX,
  PROOF_RLIMIT_DEFAULT,
  PROOF_RLIMIT_MAX,
  PROOF_SCRIPT_BYTES_MAX,
  SEXPR_DEPTH_MAX,
  SEXPR_TOKENS_MAX,
  SYMBOL_BYTES_MAX,
} from '../../core/limits.js';
import { proofId, type Proof } from '../../core/types/proof.js';
import { buildSolverScript, SOLVER_PARAMS, verdictFromOutput } from '../../core/verdict.js';
import type { VerifierContext, VerifyResult } from '../../ports/verifier.js';

export type VerifierErrorCode = 'VERIFIER_QUEUE_FULL' | 'VERIFIER_CLOSED';

/** verify() when the bounded queue is full: back-pressure, retry later. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  readonly code: VerifierErrorCode = 'VERIFIER_QUEUE_FULL';
  constructor(readonly queueMax: number) {
    super(`verifier queue is full (${queueMax} jobs waiting)`);
  }
}

/** verify() after close(), or a job still queued when close() was called. */
export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError';
  readonly code: VerifierErrorCode = 'VERIFIER_CLOSED';
  constructor() {
    super('verifier is closed');
  }
}

/** The pinned z3-solver package version, read from its package.json. */
export function z3PackageVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = require('z3-solver/package.json') as { version: string };
  return pkg.version;
}

/**
 * The context every verdict is reached in (the genesis records it; a node with a different one refuses to start).
 * @example verifierContext('Z3 5.1.0.0').solverParams.rlimit === 'per proof'
 */
export function verifierContext(z3Version: string): VerifierContext {
  return {
    z3Version,
    z3Package: `z3-solver@${z3PackageVersion()}`,
    solverParams: { ...SOLVER_PARAMS },
    rlimitDefault: PROOF_RLIMIT_DEFAULT,
    rlimitMax: PROOF_RLIMIT_MAX,
    admissionLimits: {
      BITVECTOR_WIDTH_MAX,
      COMMANDS_MAX,
      PROOF_MODEL_BYTES_MAX,
      PROOF_SCRIPT_BYTES_MAX,
      SEXPR_DEPTH_MAX,
      SEXPR_TOKENS_MAX,
      SYMBOL_BYTES_MAX,
    },
  };
}

export type PreparedJob =
  | { kind: 'rejected'; id: string; result: VerifyResult }
  | { kind: 'job'; id: string; admitted: AdmittedProof; script: string };

/**
 * Admission then the exact script. A proof that fails admission gets the deterministic verdict `malformed`
 * (the API and CLI reject such proofs before they get here; this keeps verify() total).
 */
export function prepareJob(proof: Proof, rules: ProofRules = DEFAULT_PROOF_RULES): PreparedJob {
  let id: string;
  try {
    id = proofId(proof);
  } catch {
    id = 'unencodable';
  }
  try {
    const admitted = admitProof(proof, rules);
    return { kind: 'job', id, admitted, script: buildSolverScript(admitted) };
  } catch (error) {
    if (!isAdmissionError(error)) throw error;
    return {
      kind: 'rejected',
      id,
      result: { outcome: 'verdict', verdict: 'malformed', rlimitUsed: 0, ms: 0, detail: `${error.code}: ${error.message}` },
    };
  }
}

/** Z3 output to a VerifyResult. */
export function resultFromOutput(admitted: AdmittedProof, output: string, ms: number): VerifyResult {
  const mapped = verdictFromOutput(output, admitted.proof.claim, admitted.model !== undefined);
  return { outcome: 'verdict', verdict: mapped.verdict, rlimitUsed: mapped.rlimitUsed, ms: Math.round(ms), detail: mapped.detail };
}

/** A bounded LRU of verdicts by proof id (abstentions are never cached). */
export class VerdictCache {
  private readonly entries = new Map<string, VerifyResult>();
  constructor(private readonly entriesMax: number) {}
  get(id: string): VerifyResult | undefined {
    const hit = this.entries.get(id);
    if (hit === undefined) return undefined;
    this.entries.delete(id);
    this.entries.set(id, hit);
    return hit;
  }
  set(id: string, result: VerifyResult): void {
    if (this.entriesMax <= 0 || result.outcome !== 'verdict') return;
    this.entries.delete(id);
    this.entries.set(id, result);
    while (this.entries.size > this.entriesMax) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
  get size(): number {
    return this.entries.size;
  }
}
