/**
 * The testnet's proof workload: real SMT-LIB proofs from `proofs/manifest.json`, each verified ONCE with a real
 * verifier (Z3), then submitted many times as distinct proofs (a `(set-info :source |...|)` line makes each
 * one's id unique without changing what Z3 answers), with arrival times drawn from a seeded generator.
 * Inside the simulation, validators get their verdicts from `createReplayVerifier`: the recorded Z3 verdict of
 * the base proof, returned at once, so 100 validators do not each run Z3 on every proof.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Claim, Proof, Verdict } from '../core/types/proof.js';
import type { ProofVerifier, VerifyResult } from '../ports/verifier.js';

export interface BaseProof {
  /** e.g. `lia-sum-unsat.smt2 (unsat)` */
  name: string;
  proof: Proof;
  expected: Verdict;
}

export interface VerdictTable {
  base: readonly BaseProof[];
  /** The real verifier's result for each base proof, by index. */
  results: readonly VerifyResult[];
  /** Base proofs whose verdict differed from the manifest's expectation (reported as issues). */
  mismatches: readonly string[];
  verifierName: string;
}

interface ManifestEntry { file: string; claim: Claim; model?: string; expected: Verdict }

/** Read `proofs/manifest.json` and the files it names. @throws on a missing or malformed manifest (a repo defect). */
export async function loadProofCorpus(proofsDir: string): Promise<BaseProof[]> {
  const manifest = JSON.parse(await readFile(path.join(proofsDir, 'manifest.json'), 'utf8')) as { proofs: ManifestEntry[] };
  const out: BaseProof[] = [];
  for (const e of manifest.proofs) {
    const smtlib = await readFile(path.join(proofsDir, e.file), 'utf8');
    const proof: Proof = { smtlib, claim: e.claim };
    if (e.model !== undefined) proof.model = await readFile(path.join(proofsDir, e.model), 'utf8');
    out.push({ name: `${e.file} (${e.claim}${e.model === undefined ? '' : `, model ${e.model}`})`, proof, expected: e.expected });
  }
  return out;
}

/** Verify every base proof once with `verifier` (in order) and record the results. */
export async function establishVerdicts(base: readonly BaseProof[], verifier: ProofVerifier, verifierName: string): Promise<VerdictTable> {
  const results: VerifyResult[] = [];
  const mismatches: string[] = [];
  for (const b of base) {
    const r = await verifier.verify(b.proof);
    results.push(r);
    const got = r.outcome === 'verdict' ? r.verdict : `abstain (${r.reason})`;
    if (got !== b.expected) mismatches.push(`${b.name}: verifier said ${got}, manifest expects ${b.expected}`);
  }
  return { base, results, mismatches, verifierName };
}

const TAG = /^\(set-info :source \|pop-testnet seed=(\d+) k=(\d+) base=(\d+)\|\)\n/;

/** The k-th testnet proof: base proof `baseIndex` with a unique first line. */
export function variantProof(table: VerdictTable, seed: number, k: number, baseIndex: number): Proof {
  const b = table.base[baseIndex];
  if (b === undefined) throw new Error(`variantProof: no base proof ${baseIndex}`);
  return { ...b.proof, smtlib: `(set-info :source |pop-testnet seed=${seed} k=${k} base=${baseIndex}|)\n${b.proof.smtlib}` };
}

/** Which base proof a testnet proof came from, or null if it is not one of ours. */
export function baseIndexOf(proof: Proof): number | null {
  const m = TAG.exec(proof.smtlib);
  return m === null ? null : Number(m[3]);
}

/**
 * A ProofVerifier for the simulation: answers each testnet proof with the real verdict recorded for its base
 * proof (same rlimitUsed), and `malformed` for anything else. Deterministic and instant.
 */
export function createReplayVerifier(table: VerdictTable): ProofVerifier {
  return {
    verify(proof: Proof): Promise<VerifyResult> {
      const i = baseIndexOf(proof);
      const r = i === null ? undefined : table.results[i];
      if (r === undefined) return Promise.resolve({ outcome: 'verdict', verdict: 'malformed', rlimitUsed: 0, ms: 0, detail: 'not a testnet proof' });
      return Promise.resolve({ ...r, ms: 0 });
    },
    queueSize: () => 0,
    close: () => Promise.resolve(),
  };
}

/** Small seeded PRNG (sfc32 seeded through splitmix32): same seed, same sequence, on every machine. */
export function createRandom(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/**
 * Arrival schedule: Poisson arrivals at `ratePerSec` over `durationMs`, each picking a base proof uniformly.
 * Returns submissions in time order. Bounded by `countMax`.
 */
export function scheduleSubmissions(seed: number, baseCount: number, ratePerSec: number, durationMs: number, countMax: number): { atMs: number; k: number; baseIndex: number }[] {
  const random = createRandom(seed ^ 0x5eed);
  const out: { atMs: number; k: number; baseIndex: number }[] = [];
  let t = 0;
  while (out.length < countMax) {
    t += (-Math.log(1 - random()) / ratePerSec) * 1000;
    if (t >= durationMs) break;
    out.push({ atMs: Math.floor(t), k: out.length, baseIndex: Math.floor(random() * baseCount) });
  }
  return out;
}
