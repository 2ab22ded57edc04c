/**
 * The explorer's proof page (src/api/explorer/views-proof.js) rendered without a browser: a minimal DOM (elements,
 * attributes, text nodes; all the page's helpers use) stands in for `document`, and the page's `render` gets answers
 * of GET /proofs/:id checked against the API schema. Covers the challenge statuses (docs/EXPLORER.md): `provisional`
 * with the block its challenge window ends, `challenged`, and the Challenge section. The browser side of the page is
 * test/e2e/explorer.test.ts.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProofStatusResponse, ValidatorsResponse } from '../../src/api/schemas.js';

class FakeNode {
  children: FakeNode[] = [];
  constructor(readonly tag: string, readonly text = '') {}
  attrs = new Map<string, string>();
  setAttribute(k: string, v: string): void {
    this.attrs.set(k, v);
  }
  addEventListener(): void {}
  append(child: FakeNode): void {
    this.children.push(child);
  }
  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join('');
  }
  /** Every element below (and this one) with the given tag. */
  all(tag: string): FakeNode[] {
    return [...(this.tag === tag ? [this as FakeNode] : []), ...this.children.flatMap((c) => c.all(tag))];
  }
}

type ProofPage = { render(data: { id: string; state: ProofStatusResponse }): (FakeNode | null)[] };
type ValidatorsPage = { render(data: ValidatorsResponse, cfg: { signingRecentBlocks: number }): FakeNode[] };
let proof: ProofPage;
let validators: ValidatorsPage;

beforeAll(async () => {
  Object.assign(globalThis, {
    Node: FakeNode,
    document: { createElement: (tag: string) => new FakeNode(tag), createTextNode: (text: string) => new FakeNode('#text', text) },
  });
  const url = pathToFileURL(join(__dirname, '../../src/api/explorer/views-proof.js')).href;
  proof = ((await import(url)) as { proof: ProofPage }).proof;
  validators = ((await import(pathToFileURL(join(__dirname, '../../src/api/explorer/views-chain.js')).href)) as { validators: ValidatorsPage }).validators;
});

const id = 'ab'.repeat(32);
const receipt = null; // this node lacks the block's results leaves: the page says so (a receipt needs a real chain)
const committee = { committee: ['node_2', 'node_4'], committeeMembers: [{ id: 'node_2', stake: 10000, committed: true, revealed: 'valid' as const }, { id: 'node_4', stake: 10000, committed: true, revealed: 'valid' as const }] };
const challenge = { challenger: 'node_1', verdict: 'invalid' as const, height: 9, bond: 10, committeeVerdict: 'valid' as const, committeeFinalHeight: 5 };

/** The page for one answer: its sections by aria-label, each section's text, and the status line. */
function page(answer: unknown): { status: string; sections: Map<string, string>; facts: Map<string, string> } {
  const state = ProofStatusResponse.parse(answer);
  const nodes = proof.render({ id, state }).filter((n): n is FakeNode => n !== null);
  const sections = new Map<string, string>();
  const facts = new Map<string, string>();
  for (const n of nodes) {
    for (const s of n.all('section')) {
      sections.set(s.attrs.get('aria-label')!, s.textContent);
      for (const dl of s.all('dl')) {
        for (let i = 0; i + 1 < dl.children.length; i += 2) facts.set(`${s.attrs.get('aria-label')}: ${dl.children[i]!.textContent}`, dl.children[i + 1]!.textContent);
      }
    }
  }
  const status = nodes.flatMap((n) => n.all('p')).find((p) => p.attrs.get('data-testid') === 'proof-status')!.textContent;
  return { status, sections, facts };
}

describe('explorer proof page: challenges of committee verdicts', () => {
  it('provisional: the committee\'s verdict, open to challenge until block N, and its receipt marked provisional', () => {
    const p = page({ id, status: 'provisional', height: 3, finalHeight: 5, verdict: 'valid', challengeUntil: 25, receipt, ...committee, escalated: false });
    expect(p.status).toMatch(/^provisional verdict valid its committee's verdict, open to challenge/);
    expect(p.facts.get('Status: Committee\'s verdict in block')).toBe('5');
    expect(p.facts.get('Status: Open to challenge until block')).toBe('25');
    expect(p.sections.get('Receipt')).toContain('The verdict is provisional');
    expect(p.sections.has('Challenge')).toBe(false);
  });

  it('challenged: the whole set verifies it again; the Challenge section names the challenger, both verdicts, the block and the bond', () => {
    const p = page({ id, status: 'challenged', height: 3, challenge, ...committee, escalated: true, escalatedHeight: 9 });
    expect(p.status).toMatch(/^challenged a validator disputed its committee's verdict/);
    expect(p.facts.get('Status: Verified by')).toBe('every validator: challenged at block 9, a validator disputed its committee\'s verdict (below)');
    expect(p.facts.get('Challenge: Challenger')).toBe('node_1');
    expect(p.facts.get('Challenge: Its verdict')).toBe('invalid');
    expect(p.facts.get('Challenge: The committee\'s verdict')).toBe('valid final in block 5');
    expect(p.facts.get('Challenge: Challenged in block')).toBe('9');
    expect(p.facts.get('Challenge: Bond')).toBe('10');
    expect(p.facts.get('Challenge: Outcome')).toBe('the whole set is verifying it');
    expect(p.facts.has('Challenge: Members slashed')).toBe(false);
    expect(p.sections.has('Receipt')).toBe(false);
  });

  it('final after a challenge: the outcome and the members slashed', () => {
    const p = page({ id, status: 'final', height: 3, finalHeight: 12, verdict: 'invalid', receipt, escalated: true, escalatedHeight: 9, challenge: { ...challenge, outcome: 'overturned', slashed: ['node_2', 'node_4'] } });
    expect(p.status).toMatch(/^final verdict invalid/);
    expect(p.facts.get('Challenge: Outcome')).toMatch(/^overturned overturned: the whole set reached another verdict/);
    expect(p.facts.get('Challenge: Members slashed')).toBe('node_2, node_4');
    expect(p.sections.get('Receipt')).not.toContain('provisional');
    const upheld = page({ id, status: 'final', height: 3, finalHeight: 12, verdict: 'valid', receipt, escalated: true, escalatedHeight: 9, challenge: { ...challenge, outcome: 'upheld', slashed: [] } });
    expect(upheld.facts.get('Challenge: Members slashed')).toBe('none');
  });
});

describe('explorer validators page: challenges', () => {
  const at = (counts: { provisionalOpen: number; challengesOpen: number }) => {
    const answer = ValidatorsResponse.parse({ height: 30, committees: { size: 2, openProofs: 6, escalatedOpen: 1, ...counts }, validators: [] });
    return validators.render(answer, { signingRecentBlocks: 3 }).find((n) => n.attrs.get('data-testid') === 'verifiers')!.textContent;
  };
  it('says how many committee verdicts are provisional and challenged now; none, as before', () => {
    expect(at({ provisionalOpen: 4, challengesOpen: 1 })).toContain('6 proofs are open (1 escalated to every validator; 4 committee verdicts provisional, open to challenge, and 1 challenged).');
    expect(at({ provisionalOpen: 0, challengesOpen: 0 })).toContain('6 proofs are open (1 escalated to every validator).');
  });
});
