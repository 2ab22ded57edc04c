import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBudgetQueue } from '../../src/core/pool/budget-queue.js';

describe('budget queue (the verifier waiting room, issue 11 attack 4)', () => {
  it('serves the cheapest class first, oldest first within a class', () => {
    const q = createBudgetQueue<string>({ max: 10, classBounds: [10, 100], ageingEvery: 1_000 });
    q.push('heavy-1', 500);
    q.push('mid-1', 50);
    q.push('cheap-1', 5);
    q.push('heavy-2', 500);
    q.push('cheap-2', 1);
    expect([q.take(), q.take(), q.take(), q.take(), q.take(), q.take()]).toEqual(['cheap-1', 'cheap-2', 'mid-1', 'heavy-1', 'heavy-2', undefined]);
  });

  it('ages: every Nth take serves the oldest job of any class, so heavy proofs progress under a stream of cheap ones', () => {
    const q = createBudgetQueue<string>({ max: 100, classBounds: [10], ageingEvery: 3 });
    q.push('heavy', 1_000);
    const served: string[] = [];
    for (let i = 0; i < 6; i++) {
      q.push(`cheap-${i}`, 1);
      served.push(q.take()!);
    }
    expect(served.indexOf('heavy')).toBe(2);
  });

  it('when full, sheds the costliest waiting job (the newest among equals), or the arriving one if it is the costliest', () => {
    const q = createBudgetQueue<string>({ max: 3, classBounds: [10] });
    expect(q.push('a', 50)).toBeNull();
    expect(q.push('b', 50)).toBeNull();
    expect(q.push('c', 20)).toBeNull();
    expect(q.push('cheap', 1)).toBe('b');
    expect(q.push('big', 60)).toBe('big');
    expect(q.push('equal', 50)).toBe('equal');
    expect(q.size()).toBe(3);
    expect(q.drain()).toEqual(['a', 'c', 'cheap']);
    expect(q.size()).toBe(0);
  });

  it('within a class serves the higher priority (fee per budget) first, oldest among equals; ageing ignores priority', () => {
    const q = createBudgetQueue<string>({ max: 10, classBounds: [10], ageingEvery: 1_000 });
    q.push('flood-1', 5, 1);
    q.push('flood-2', 5, 1);
    q.push('heavy-rich', 500, 100);
    q.push('honest', 5, 2);
    q.push('flood-3', 5, 1);
    q.push('honest-2', 5, 2);
    expect([q.take(), q.take(), q.take(), q.take(), q.take(), q.take()]).toEqual(['honest', 'honest-2', 'flood-1', 'flood-2', 'flood-3', 'heavy-rich']);
    const aged = createBudgetQueue<string>({ max: 10, classBounds: [10], ageingEvery: 2 });
    aged.push('old-poor', 5, 0);
    aged.push('new-rich', 5, 9);
    aged.push('newer-rich', 5, 9);
    expect([aged.take(), aged.take(), aged.take()]).toEqual(['new-rich', 'old-poor', 'newer-rich']);
  });

  it('a flood at the minimum fee that fills the room does not shed a proof that pays more (it sheds a flood proof)', () => {
    const q = createBudgetQueue<string>({ max: 3, classBounds: [10] });
    for (let i = 0; i < 3; i++) expect(q.push(`flood-${i}`, 5, 1)).toBeNull();
    // Before: equal budgets shed the newest, so the paying newcomer itself gave way.
    expect(q.push('honest', 5, 2)).toBe('flood-2');
    expect(q.push('flood-3', 5, 1)).toBe('flood-3');
    expect(q.take()).toBe('honest');
    // A larger budget still goes first whatever it pays.
    expect(q.push('rich-heavy', 50, 1_000)).toBeNull();
    expect(q.push('poor-cheap', 1, 0)).toBe('rich-heavy');
  });

  it('take(maxClass) serves only the cheaper classes (ageing too), leaving the expensive ones waiting', () => {
    const q = createBudgetQueue<string>({ max: 10, classBounds: [10, 100], ageingEvery: 1 });
    q.push('top', 1_000);
    q.push('mid', 50);
    expect(q.classOf(1_000)).toBe(2);
    expect(q.classCount()).toBe(3);
    expect(q.take(1)).toBe('mid');
    expect(q.take(1)).toBeUndefined();
    expect(q.size()).toBe(1);
    expect(q.take()).toBe('top');
  });

  it('never holds more than max, never loses a job (each is taken, shed or drained exactly once); budget() is the sum of the waiting ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(-1)), { maxLength: 60 }), (max, ops) => {
        const q = createBudgetQueue<number>({ max, classBounds: [10, 100], ageingEvery: 3 });
        let k = 0;
        const out: number[] = [];
        let n = 0;
        const budgets: number[] = [];
        const waiting = (job: number): boolean => !out.includes(job);
        for (const op of ops) {
          if (op === -1) {
            const t = q.take();
            if (t !== undefined) out.push(t);
          } else {
            budgets.push(op);
            const shed = q.push(n++, op, (k++ * 7) % 3);
            if (shed !== null) out.push(shed);
          }
          expect(q.size()).toBeLessThanOrEqual(max);
          expect(q.budget()).toBe(budgets.filter((_, job) => waiting(job)).reduce((a, b) => a + b, 0));
        }
        out.push(...q.drain());
        expect(q.budget()).toBe(0);
        expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });
});
