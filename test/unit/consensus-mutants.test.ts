import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MUTANTS, mutated, quorumRule } from '../../src/core/consensus/mutants.js';
import type { ConsensusConfig } from '../../src/core/consensus/state.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';

const base: ConsensusConfig = { chainId: 'c', self: 'v1', timeouts: DEFAULT_TIMEOUTS };

describe('mutants', () => {
  it('are off unless listed in config.faults', () => {
    for (const m of MUTANTS) {
      expect(mutated(base, m)).toBe(false);
      expect(mutated({ ...base, faults: { mutants: [m] } }, m)).toBe(true);
    }
    expect(mutated({ ...base, faults: { mutants: ['ignore-lock'] } }, 'unlock-on-nil')).toBe(false);
  });

  it('two-thirds-inclusive makes exactly 2/3 a quorum; the honest rule needs more', () => {
    expect(quorumRule(base)(40, 60)).toBe(false);
    expect(quorumRule(base)(41, 60)).toBe(true);
    expect(quorumRule({ ...base, faults: { mutants: ['two-thirds-inclusive'] } })(40, 60)).toBe(true);
    expect(quorumRule({ ...base, faults: { mutants: ['two-thirds-inclusive'] } })(39, 60)).toBe(false);
  });

  it('no code outside the simulator and the consensus core names a mutant or sets config.faults', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          if (path !== join('src', 'sim') && path !== join('src', 'core', 'consensus')) walk(path);
        } else if (path !== join('src', 'cli', 'sim.ts') && /\bmutants?\b|faults:\s*\{\s*mutants/.test(readFileSync(path, 'utf8'))) offenders.push(path);
      }
    };
    walk('src');
    expect(offenders).toEqual([]);
  });
});
