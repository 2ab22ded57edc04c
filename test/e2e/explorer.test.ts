/**
 * End-to-end: the web explorer of a running network (4 real validator processes) in a real headless Chromium
 * (Debian's `chromium` package driven by playwright-core through its executablePath; no browser download).
 * The pages show the chain's data as the JSON API gives it; a proof submitted through the form (chosen as a file)
 * becomes final on the page; the receipt link downloads a receipt that scripts/verify-receipt accepts; proof text
 * and a validator id carrying markup show as text; the page asks nothing of any host but the node.
 * Skips, saying so, where no Chromium binary is found (.ci/run installs it when it can; or set CHROMIUM_PATH).
 * EXPLORER_SCREENSHOTS=docs/img writes a screenshot of each page there (the ones in docs/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ZodType } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockResponse, ProofStatusResponse, StatusResponse, ValidatorsResponse } from '../../src/api/schemas.js';
import { repoRoot, startTestNetwork, until, type TestNetwork } from './network-harness.js';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const chromiumPath = candidates.find((p): p is string => !!p && existsSync(p));
if (!chromiumPath) {
  console.warn('explorer.test.ts: SKIPPED, no Chromium binary (install Debian\'s package: apt-get install -y --no-install-recommends chromium, or set CHROMIUM_PATH)');
}
const shots = process.env.EXPLORER_SCREENSHOTS;

/** A proof file with markup in a comment: the page must show it as text and run none of it. */
const hostileComment = '; <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

let net: TestNetwork;
let browser: Browser;
let page: Page;
const foreignRequests: string[] = [];
const pageErrors: string[] = [];

async function shoot(name: string, fullPage = false): Promise<void> {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `explorer-${name}.png`), fullPage });
}

const api = <T>(path: string, schema: ZodType<T>): Promise<T> => net.client(1).get(path, schema);

beforeAll(async () => {
  if (!chromiumPath) return;
  [net, browser] = await Promise.all([startTestNetwork({ count: 4, workers: 1 }), chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })]);
  const origin = new URL(net.url(1, '/')).origin;
  page = await browser.newPage({ viewport: { width: 1100, height: 760 }, acceptDownloads: true });
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin + '/') && !url.startsWith('blob:' + origin)) foreignRequests.push(url);
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await net?.destroy();
});

describe.skipIf(!chromiumPath)('web explorer in headless Chromium', () => {
  it("overview: the chain's height and health, the latest blocks, and it updates live", async () => {
    const res = await page.goto(net.url(1, '/'));
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
    await page.getByRole('heading', { level: 1, name: /^Chain / }).waitFor();
    const status = await api('/status', StatusResponse);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(`Chain ${status.chainId}`);
    await expect.poll(() => page.locator('.facts').first().textContent()).toContain('Healthok');
    // The page's first poll may predate the test's GET /status by a block: wait for it to catch up.
    const heightShown = async (): Promise<number> => Number((await page.getByTestId('height').textContent())!.replace(/,/g, ''));
    await expect.poll(heightShown, { timeout: 20_000 }).toBeGreaterThanOrEqual(status.height);
    const shown = await heightShown();
    // Live: the height on the page rises without a reload.
    await until('the page to show a later height', async () => Number((await page.getByTestId('height').textContent())!.replace(/,/g, '')) > shown, 20_000);
    const rows = page.getByRole('table', { name: /latest blocks/ }).locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    // Paused, the page stays put while the chain moves on; resumed, it catches up.
    const pause = page.getByRole('button', { name: 'Pause updates' });
    await pause.click();
    expect(await page.getByRole('button', { name: 'Resume updates' }).getAttribute('aria-pressed')).toBe('true');
    const frozen = await page.getByTestId('height').textContent();
    const apiHeight = (await api('/status', StatusResponse)).height;
    await until('the chain to move on', async () => (await api('/status', StatusResponse)).height > apiHeight, 20_000);
    await page.waitForTimeout(2_500);
    expect(await page.getByTestId('height').textContent()).toBe(frozen);
    await page.getByRole('button', { name: 'Resume updates' }).click();
    await expect.poll(() => page.getByTestId('height').textContent()).not.toBe(frozen);
  });

  it("a block: its header, txs and commit certificate, as GET /blocks/:height has them", async () => {
    await page.getByRole('link', { name: '1', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Block 1' }).waitFor();
    const block = await api('/blocks/1', BlockResponse);
    expect(await page.locator('main').textContent()).toContain(block.hash);
    const signers = page.getByRole('table', { name: /commit signatures/ }).locator('tbody th');
    expect((await signers.allTextContents()).sort()).toEqual(block.certificate.signatures.map((s) => s.validator).sort());
  });

  it('validators: stake, accuracy, rewards, jailed and signing of each', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Validators' }).click();
    await page.getByRole('heading', { level: 1, name: 'Validators' }).waitFor();
    const { validators } = await api('/validators', ValidatorsResponse);
    const table = page.getByRole('table', { name: 'The validator set' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(validators.length);
    // no committee_size in this genesis: every validator verifies, and the table has no committee column
    expect(await page.getByTestId('verifiers').textContent()).toBe('Every validator verifies every proof (this network has no verification committees).');
    expect(await table.getByRole('columnheader', { name: 'Committee' }).count()).toBe(0);
    for (const v of validators) {
      const row = table.getByRole('row', { name: new RegExp(`^${v.id} `) });
      const text = (await row.textContent())!;
      expect(text).toContain(v.stake.toLocaleString('en-US'));
      expect(text).toMatch(v.jailed ? /jailed/ : /no/);
      expect(text).toMatch(/signing|silent|never/);
    }
  });

  it('submit a proof through the form (a chosen file), watch it become final, download and verify its receipt', async () => {
    await page.getByRole('link', { name: 'Submit a proof' }).click();
    await page.getByRole('heading', { level: 1, name: 'Submit a proof' }).waitFor();
    const script = readFileSync(join(repoRoot, 'proofs', 'lia-sum-unsat.smt2'), 'utf8') + '\n' + hostileComment + '\n';
    await page.getByLabel('Script file').setInputFiles({ name: 'lia-sum-unsat.smt2', mimeType: 'text/plain', buffer: Buffer.from(script) });
    await expect.poll(() => page.getByLabel('SMT-LIB script').inputValue()).toBe(script);
    await page.getByLabel(/^unsat/).check();
    await shoot('submit');
    await page.getByRole('button', { name: 'Submit proof' }).press('Enter');
    await page.waitForURL(/#\/proofs\/[0-9a-f]{64}$/);
    const id = page.url().split('/').pop()!;
    const status = page.getByTestId('proof-status');
    await until('the page to show the final verdict', async () => /^final verdict valid/.test((await status.textContent()) ?? ''), 60_000);
    const final = await api(`/proofs/${id}`, ProofStatusResponse);
    expect(final).toMatchObject({ status: 'final', verdict: 'valid' });

    // The claim and script, as text; who attested what, as the blocks after its own have it.
    expect(await page.getByTestId('proof-script').textContent()).toBe(script);
    expect(await page.locator('.facts').first().textContent()).toContain('Verified byevery validator (this network has no verification committees)');
    expect(await page.getByRole('region', { name: 'Verification committee' }).count()).toBe(0);
    const attested = page.getByRole('table', { name: /Verdicts attested/ }).locator('tbody tr');
    await expect.poll(() => attested.count()).toBeGreaterThanOrEqual(3);
    for (const row of await attested.allTextContents()) expect(row).toMatch(/valid/);
    await shoot('proof', true);

    // The receipt link downloads the node's receipt; the project's offline verifier accepts it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Download the receipt/ }).click()]);
    const receiptPath = join(net.dir, 'receipt.json');
    writeFileSync(receiptPath, readFileSync((await download.path())!));
    expect(JSON.parse(readFileSync(receiptPath, 'utf8'))).toEqual((final as { receipt: unknown }).receipt);
    const verify = spawnSync(join(repoRoot, 'scripts/verify-receipt'), [receiptPath, '--genesis', join(net.dir, 'genesis.json')], { encoding: 'utf8', timeout: 30_000 });
    expect(verify.stdout).toMatch(/^VALID receipt/);
    expect(verify.status).toBe(0);

    // The block that carries it lists the proof under its id, with the markup of its comment as text.
    await page.getByRole('link', { name: String((final as { height: number }).height), exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: /^Block / }).waitFor();
    await expect.poll(() => page.locator(`a[href="#/proofs/${id}"]`).count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('pre.script').allTextContents()).toContain(script);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main script, main img').count()).toBe(0);
    await shoot('block');
    if (shots) {
      for (const [path, name] of [['#/validators', 'validators'], ['#/', 'overview']] as const) {
        await page.goto(net.url(1, `/${path}`));
        await page.getByRole('table').first().locator('tbody tr').first().waitFor();
        await page.waitForTimeout(500);
        await shoot(name);
      }
    }
  });

  it('a validator id carrying markup shows as text and runs nothing', async () => {
    const hostileId = '<script>window.__pwned = 3</script><img src=x onerror="window.__pwned = 4">';
    await page.route('**/validators', async (route) => {
      const res = await route.fetch();
      const body = ValidatorsResponse.parse(await res.json());
      body.validators[0] = { ...body.validators[0]!, id: hostileId, jailed: true };
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(net.url(1, '/#/validators'));
    const cell = page.getByRole('rowheader', { name: hostileId, exact: true });
    await cell.waitFor();
    expect(await cell.textContent()).toBe(hostileId);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.unroute('**/validators');
  });

  it('keyboard: the first Tab reaches the skip link, and it moves focus to the content', async () => {
    await page.goto(net.url(1, '/#/validators'));
    await page.reload(); // a fresh load: focus starts at the top of the document
    await page.getByRole('heading', { level: 1, name: 'Validators' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
    expect(page.url()).toMatch(/#main$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Validators');
    // The search box takes a block height (or a proof id) from the keyboard.
    await page.getByLabel('Proof id or block height').fill('2');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Block 2' }).waitFor();
    expect(await page.evaluate('document.activeElement.tagName')).toBe('H1');
  });

  it('asked nothing of any other host, and logged no error (a CSP violation would be one)', () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
