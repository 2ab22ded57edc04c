/**
 * Verification committees in real processes (issue 15, item 4): 4 validator processes (real Z3, LevelDB, sockets)
 * on a genesis with `proposer_election: vrf` and `committee_size: 2`. Each proof is verified by its committee of 2,
 * not by all 4: the validators' comparisons add up to 2 per proof. Then node_4 is killed (kill -9): a proof whose
 * committee holds node_4 cannot reach > 2/3 of its committee's stake, escalates to the whole set at its window's
 * end, and the three live validators (two of them off the committee, verifying the proof's text from their block
 * stores) finalize it; node_4 gets the committee's miss.
 * Then where operators and clients look (issue 15, item 6): GET /proofs/:id shows a proof's committee with stakes,
 * commitments and reveals, and the escalation; GET /validators each validator's seats; the monitor (`--once`) a
 * committee column and line; the explorer (headless Chromium, where one is installed) the proof's committee and
 * escalation, and the validators' committee column.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import type { ZodType } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProofStatusResponse, ValidatorsResponse } from '../../src/api/schemas.js';
import { repoRoot, startTestNetwork, until, type TestNetwork } from './network-harness.js';

const WINDOW = 12;
let net: TestNetwork;
/** Proofs submitted after node_4 was killed: one of them escalated. */
const afterKill: string[] = [];
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, params: { proposer_election: 'vrf', committee_size: 2, verdict_window_blocks: WINDOW } });
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

const proof = (i: number) => ({ smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat)`, claim: 'sat' as const });

async function accuracy(n: number) {
  return new Map((await net.client(n).getValidators()).validators.map((v) => [v.id, v.accuracy]));
}

describe('verification committees in real processes', () => {
  it('each proof is verified by its committee of 2 of 4; with a member killed, its proof escalates to the whole set and is final', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await net.submit(1, proof(i));
      expect(r.status).toBe(202);
      ids.push(r.id!);
      expect(await net.finalVerdict(1, ids[i]!, 90_000)).toBe('valid');
    }
    // the members reveal by the end of each window (after finality too): 2 comparisons per proof, not 4
    const top = (await net.status(1)).height;
    await until('the windows of the first proofs closed', async () => (await net.status(1)).height >= top + WINDOW, 120_000);
    const before = await accuracy(1);
    const compared = [...before.values()].reduce((sum, a) => sum + a.compared, 0);
    expect(compared).toBe(2 * ids.length);
    for (const a of before.values()) expect(a.missed).toBe(0);

    await net.kill9(4);
    // proofs until one had node_4 on its committee (1/2 each): it escalates, node_4 gets a miss, and it is final
    let escalated = false;
    for (let i = 10; i < 22 && !escalated; i++) {
      const r = await net.submit(1, proof(i));
      expect(r.status).toBe(202);
      afterKill.push(r.id!);
      expect(await net.finalVerdict(1, r.id!, 180_000)).toBe('valid');
      escalated = (await accuracy(1)).get('node_4')!.missed > 0;
    }
    expect(escalated).toBe(true);
    expect(await net.hashAt(2, (await net.status(1)).height - 1)).toBe(await net.hashAt(1, (await net.status(1)).height - 1));
  }, 900_000);

  it('shows committees where operators and clients look: GET /proofs/:id and /validators, the monitor, the explorer', async () => {
    const api = <T>(path: string, schema: ZodType<T>) => net.client(1).get(path, schema);
    // an open proof: its committee of 2 with stakes, commitments and reveals; not escalated
    const r = await net.submit(1, proof(100));
    expect(r.status).toBe(202);
    const open = await until('the proof in a block', async () => {
      const p = await api(`/proofs/${r.id}`, ProofStatusResponse);
      return p.status === 'included' || p.status === 'final' ? p : undefined;
    }, 60_000);
    expect(open).toMatchObject({ escalated: false });
    const members = (open as { committeeMembers?: { id: string; stake: number; committed: boolean; revealed: string | null }[] }).committeeMembers!;
    expect(members.map((m) => m.id)).toEqual((open as { committee?: string[] }).committee);
    expect(members).toHaveLength(2);
    for (const m of members) expect(m.stake).toBe(10000);
    // the escalated one (its committee held the killed node_4): every validator decided it
    const fates = await Promise.all(afterKill.map((id) => api(`/proofs/${id}`, ProofStatusResponse)));
    const escalatedId = afterKill[fates.findIndex((p) => (p as { escalated?: boolean }).escalated === true)];
    expect(escalatedId).toBeDefined();
    expect(fates.find((p) => p.id === escalatedId)).toMatchObject({ status: 'final', verdict: 'valid', escalatedHeight: expect.any(Number) });
    // each validator's seats on open proofs' committees: two per open proof
    const vs = await api('/validators', ValidatorsResponse);
    expect(vs.committees?.size).toBe(2);
    expect(vs.validators.reduce((sum, v) => sum + v.committee!.seats, 0)).toBe(2 * vs.committees!.openProofs);

    // the monitor, as an operator runs it: a committee column and the committee line
    const urls = [1, 2, 3].map((n) => net.url(n, '').replace(/\/$/, '')).join(',');
    const { stdout } = await promisify(execFile)(join(repoRoot, 'scripts/monitor-network'), ['--nodes', urls, '--once'], { cwd: repoRoot });
    expect(stdout).toMatch(/Rank +Node ID +Rounds +Accuracy +Rewards +Committee/);
    expect(stdout).toMatch(/node_1 +\d+ +\S+ +[\d.]+ +\d+ seats, \d+ revealed/);
    expect(stdout).toMatch(/Verification committees: 2 of 4 validators verify each proof; \d+ open proof\(s\)/);

    if (!chromiumPath) return console.warn('committees.test.ts: explorer part SKIPPED, no Chromium binary');
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(net.url(1, `/#/proofs/${escalatedId}`));
      const committee = page.getByRole('region', { name: 'Verification committee' });
      await committee.waitFor();
      expect(await page.locator('.facts').first().textContent()).toMatch(/Verified byevery validator: escalated at block \d+/);
      const stillOpen = await api(`/proofs/${escalatedId}`, ProofStatusResponse);
      if ((stillOpen as { committee?: string[] }).committee) {
        expect(await committee.locator('tbody tr').count()).toBe(2);
      } else {
        expect(await committee.textContent()).toContain('dropped this proof\'s committee when its verdict window closed (it had escalated to every validator)');
      }
      await page.goto(net.url(1, `/#/proofs/${r.id}`));
      await expect.poll(() => page.locator('main').textContent(), { timeout: 20_000 }).toContain(`Id ${r.id}`);
      expect(await page.locator('.facts').first().textContent()).toContain('Verified byits committee of 2 (below)');
      const rows = page.getByRole('table', { name: /Committee of this proof \(2 members\)/ }).locator('tbody tr');
      await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(2);
      expect((await rows.locator('th').allTextContents()).sort()).toEqual(members.map((m) => m.id).sort());
      await page.goto(net.url(1, '/#/validators'));
      await page.getByRole('columnheader', { name: 'Committee' }).waitFor();
      expect(await page.getByTestId('verifiers').textContent()).toMatch(/^Verification committees: each proof is verified by 2 validators/);
      expect(await page.getByRole('row', { name: /^node_1 / }).textContent()).toMatch(/\d+ seats, \d+ committed, \d+ revealed/);
    } finally {
      await browser.close();
    }
  }, 240_000);
});
