/**
 * committee-odds: how likely a verification committee is captured, by the formula and by sampling.
 *
 * For each network size and committee size: the exact hypergeometric probability that more than 1/3 (block) and
 * more than 2/3 (forge) of the committee is Byzantine, the same rates observed over --seeds sampled committees
 * (src/core/committee/sample.ts, the code committees would use), and the smallest committee below --target.
 * The last line printed is one JSON object with every figure.
 */
import { Command, InvalidArgumentError } from 'commander';
import { allByzantineProbability, captureProbability, captureThreshold, smallestSafeCommittee, type CaptureKind } from '../core/committee/odds.js';
import { survivalProbability } from '../core/committee/check.js';
import { sampleCommittee } from '../core/committee/sample.js';

const list = (v: string): number[] => {
  const xs = v.split(',').map(Number);
  if (xs.some((x) => !Number.isInteger(x) || x < 1 || x > 4096)) throw new InvalidArgumentError('a comma-separated list of integers 1..4096');
  return xs;
};
const fraction = (v: string): number => {
  const x = Number(v);
  if (!(x >= 0 && x < 1)) throw new InvalidArgumentError('a fraction in [0, 1)');
  return x;
};

const opts = new Command()
  .name('committee-odds')
  .description('Capture probability of verification committees: exact hypergeometric tail and the rate observed over sampled committees.')
  .option('--validators <list>', 'network sizes (equal stakes)', list, [64, 256, 1000])
  .option('--committees <list>', 'committee sizes', list, [16, 32, 64, 128])
  .option('--byzantine <fraction>', 'Byzantine share of the validators', fraction, 0.25)
  .option('--target <p>', 'capture probability to stay below', Number, 1e-9)
  .option('--seeds <n>', 'sampled committees per row for the observed rate (0: skip)', (v) => Number.parseInt(v, 10), 20_000)
  .option('--check-bps <list>', 'challenge_check_bps values for the survival table (share of committee verdicts each validator re-verifies, basis points)', list, [100, 500, 1000])
  .parse()
  .opts<{ validators: number[]; committees: number[]; byzantine: number; target: number; seeds: number; checkBps: number[] }>();

interface Row {
  validators: number;
  byzantine: number;
  committee: number;
  block: number;
  forge: number;
  observedBlock: number | null;
  observedForge: number | null;
}

function observed(n: number, b: number, k: number, seeds: number): { block: number; forge: number } | null {
  if (seeds <= 0) return null;
  const set = Array.from({ length: n }, (_, i) => ({ id: `v${String(i).padStart(4, '0')}`, publicKey: '', stake: 1 }));
  const byz = new Set(set.slice(0, b).map((v) => v.id));
  const counts: Record<CaptureKind, number> = { block: 0, forge: 0 };
  for (let s = 0; s < seeds; s++) {
    const bad = sampleCommittee(set, `odds/${n}/${k}/${s}`, k).filter((id) => byz.has(id)).length;
    if (bad >= captureThreshold(k, 'block')) counts.block++;
    if (bad >= captureThreshold(k, 'forge')) counts.forge++;
  }
  return { block: counts.block / seeds, forge: counts.forge / seeds };
}

const rows: Row[] = [];
const smallest: { validators: number; block: number; forge: number }[] = [];
const fmt = (p: number | null): string => (p === null ? '-' : p === 0 ? '0' : p.toExponential(2));
console.log(`Byzantine share ${opts.byzantine}; block = more than 1/3 of the committee Byzantine, forge = more than 2/3`);
console.log('validators  committee  P(block)    observed    P(forge)    observed');
for (const n of opts.validators) {
  const b = Math.floor(n * opts.byzantine);
  for (const k of opts.committees.filter((c) => c <= n)) {
    const seen = observed(n, b, k, opts.seeds);
    const row: Row = { validators: n, byzantine: b, committee: k, block: captureProbability(n, b, k, 'block'), forge: captureProbability(n, b, k, 'forge'), observedBlock: seen?.block ?? null, observedForge: seen?.forge ?? null };
    rows.push(row);
    console.log(`${String(n).padStart(10)}  ${String(k).padStart(9)}  ${fmt(row.block).padEnd(10)}  ${fmt(row.observedBlock).padEnd(10)}  ${fmt(row.forge).padEnd(10)}  ${fmt(row.observedForge)}`);
  }
  smallest.push({ validators: n, block: smallestSafeCommittee(n, b, opts.target, 'block'), forge: smallestSafeCommittee(n, b, opts.target, 'forge') });
}
for (const s of smallest) console.log(`${s.validators} validators: smallest committee with P <= ${opts.target}: ${s.block} (block), ${s.forge} (forge)`);
// Challenges (docs/CONSENSUS_PROTOCOL.md "Challenges"): a wrong committee verdict survives its challenge window when
// the committee is captured and no honest validator challenges. Two bounds: every member Byzantine and the n - b
// honest validators each checking a share r (honest members online: they challenge what outvoted them); and the
// pessimistic one, forge-captured with its honest members silent, only the n - b - k honest validators surely off
// the committee checking. The extra verifications per proof are r (n - k), beside the committee's k.
const survival: { validators: number; committee: number; checkBps: number; allByzantine: number; forgeSilentHonest: number; extraVerificationsPerProof: number }[] = [];
console.log('challenges: P(a wrong verdict survives) = P(capture) x (1 - r)^(honest checkers)');
console.log('validators  committee  check_bps  all-Byz x (1-r)^(n-b)  forge x (1-r)^(n-b-k)  extra verifications/proof');
for (const row of rows) {
  const n = row.validators;
  const b = row.byzantine;
  const k = row.committee;
  for (const bps of opts.checkBps) {
    const s = { validators: n, committee: k, checkBps: bps, allByzantine: survivalProbability(allByzantineProbability(n, b, k), n - b, bps), forgeSilentHonest: survivalProbability(row.forge, Math.max(0, n - b - k), bps), extraVerificationsPerProof: Math.round((bps / 10_000) * (n - k) * 100) / 100 };
    survival.push(s);
    console.log(`${String(n).padStart(10)}  ${String(k).padStart(9)}  ${String(bps).padStart(9)}  ${fmt(s.allByzantine).padEnd(21)}  ${fmt(s.forgeSilentHonest).padEnd(21)}  ${s.extraVerificationsPerProof}`);
  }
}
console.log(JSON.stringify({ byzantineShare: opts.byzantine, target: opts.target, seeds: opts.seeds, rows, smallest, survival }));
