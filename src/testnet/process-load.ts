/**
 * The load of a process-mode run: proofs of the corpus (distinct variants) submitted over HTTP POST /proofs at
 * their scheduled (seeded Poisson) times, round robin over the live validators.
 */
import { performance } from 'node:perf_hooks';
import { sleepAbortable } from '../cluster/proc.js';
import type { SubmittedProof } from './process-measure.js';
import type { RunState, TestnetNode } from './process-run-state.js';
import { variantProof, type BaseProof } from './workload.js';

/** Submissions in flight at most before the submitter waits for them. */
const INFLIGHT_MAX = 64;

/** What the load did: proofs accepted (202), and refusals by code. */
export interface LoadOutcome {
  submitted: SubmittedProof[];
  refused: number;
  refusals: Map<string, number>;
}

/** One scheduled submission: the k-th proof, a variant of corpus proof `baseIndex`, at `atMs` after the start. */
export interface ScheduledSubmission {
  k: number;
  baseIndex: number;
  atMs: number;
}

/** The JSON body of the k-th submitted proof (a distinct variant of corpus proof `baseIndex`). */
export function buildProofBody(base: readonly BaseProof[], seed: number, k: number, baseIndex: number): string {
  const p = variantProof({ base, results: [], mismatches: [], verifierName: '' }, seed, k, baseIndex);
  const body: Record<string, unknown> = { smtlib: p.smtlib, claim: p.claim };
  if (p.model !== undefined) body.model = p.model;
  return JSON.stringify(body);
}

/** Submit one proof to the first live node from k (round robin) that takes it; a 400 is a refusal, not retried. */
async function submitOne(nodes: readonly TestnetNode[], s: ScheduledSubmission, body: string, out: LoadOutcome): Promise<void> {
  const refuse = (code: string) => { out.refusals.set(code, (out.refusals.get(code) ?? 0) + 1); out.refused++; };
  for (let attempt = 0; attempt < nodes.length; attempt++) {
    const n = nodes[(s.k + attempt) % nodes.length]!;
    if (!n.proc.alive()) continue;
    try {
      const res = await fetch(`${n.proc.url}/proofs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
      const json = (await res.json()) as { id?: string; error?: { code?: string } };
      if (res.status === 202 && typeof json.id === 'string') {
        out.submitted.push({ id: json.id, baseIndex: s.baseIndex });
        return;
      }
      if (res.status === 400) return refuse(json.error?.code ?? `HTTP ${res.status}`);
    } catch { /* node went down between the check and the request: try the next */ }
  }
  refuse('NO_NODE_ACCEPTED');
}

/** Submit the schedule until it ends or the run's signal aborts; resolves when every submission has answered. */
export async function runLoad(st: RunState, nodes: readonly TestnetNode[], schedule: readonly ScheduledSubmission[], base: readonly BaseProof[], seed: number): Promise<LoadOutcome> {
  const out: LoadOutcome = { submitted: [], refused: 0, refusals: new Map() };
  let inflight: Promise<void>[] = [];
  for (const s of schedule) {
    const wait = st.t0 + s.atMs - performance.now();
    if (wait > 0) await sleepAbortable(st.signal, wait).catch(() => undefined);
    if (st.signal.aborted) break;
    inflight.push(submitOne(nodes, s, buildProofBody(base, seed, s.k, s.baseIndex), out));
    if (inflight.length >= INFLIGHT_MAX) { await Promise.all(inflight); inflight = []; }
  }
  await Promise.all(inflight);
  return out;
}
