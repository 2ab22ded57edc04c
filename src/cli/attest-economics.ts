/**
 * attest-economics: the expected payoff per proof of the honest attester and of each lazy strategy, under the
 * default genesis reward schedule (or the one given), for a few proof mixes. Deterministic; prints a table.
 */
import { Command } from 'commander';
import { blindBreakEvenCost, strategyPayoffs, type ProofMix, type Schedule } from '../core/attest/economics.js';
import { PARAM_TABLE } from '../core/ledger/params.js';

const defaultOf = (name: string): number => PARAM_TABLE.find((r) => r.name === name)?.defaultValue as number;

const program = new Command()
  .name('attest-economics')
  .description('Expected payoff per proof of honest and lazy attestation strategies under the reward schedule (docs/LEDGER.md)')
  .option('--reward <n>', 'verification_reward', String(defaultOf('verificationReward')))
  .option('--wrong <n>', 'wrong_verdict_penalty', String(defaultOf('wrongVerdictPenalty')))
  .option('--miss <n>', 'miss_penalty', String(defaultOf('missPenalty')))
  .option('--abstain <n>', 'abstain_penalty', String(defaultOf('abstainPenalty')))
  .option('--heavy-cost <n>', 'cost of verifying a heavy proof, in tokens', '1')
  .parse();

const o = program.opts<{ reward: string; wrong: string; miss: string; abstain: string; heavyCost: string }>();
const schedule: Schedule = { verificationReward: Number(o.reward), wrongVerdictPenalty: Number(o.wrong), missPenalty: Number(o.miss), abstainPenalty: Number(o.abstain) };
const mixes: (ProofMix & { name: string })[] = [
  { name: '70% valid, 30% heavy', validShare: 0.7, heavyShare: 0.3, heavyCost: Number(o.heavyCost), trivialCost: 0 },
  { name: '90% valid, 30% heavy', validShare: 0.9, heavyShare: 0.3, heavyCost: Number(o.heavyCost), trivialCost: 0 },
  { name: '99% valid, 30% heavy', validShare: 0.99, heavyShare: 0.3, heavyCost: Number(o.heavyCost), trivialCost: 0 },
];
console.log(`schedule: verification_reward ${schedule.verificationReward}, wrong_verdict_penalty ${schedule.wrongVerdictPenalty}, miss_penalty ${schedule.missPenalty}, abstain_penalty ${schedule.abstainPenalty}; heavy proof costs ${o.heavyCost}, trivial 0`);
const rows = mixes.map((m) => strategyPayoffs(schedule, m));
const width = Math.max(...rows[0]!.map((r) => r.strategy.length));
console.log(`${'strategy'.padEnd(width)} | ${mixes.map((m) => m.name.padStart(22)).join(' | ')}`);
rows[0]!.forEach((row, i) => console.log(`${row.strategy.padEnd(width)} | ${rows.map((r) => r[i]!.payoff.toFixed(2).padStart(22)).join(' | ')}`));
for (const m of mixes) {
  const [honest, ...lazy] = strategyPayoffs(schedule, m);
  const best = lazy.reduce((a, b) => (b.payoff > a.payoff ? b : a));
  console.log(`${m.name}: honest ${honest!.payoff.toFixed(2)} vs best lazy ${best.payoff.toFixed(2)} (${best.strategy}) -> ${honest!.payoff > best.payoff ? 'honest wins' : 'LAZY WINS'}; blind valid breaks even at a verification cost of ${blindBreakEvenCost(schedule, m.validShare)} per proof`);
}
