/**
 * The docs hold together: every relative link in README.md and docs/*.md reaches a file (and, with a #fragment, a
 * heading of that file, slugged as GitHub does), every page of docs/ is reachable from docs/README.md, and the
 * README stays a front page (under 150 lines).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README_LINES_MAX = 150;

/** Markdown without fenced code blocks and inline code spans (links there are examples, not links). */
function stripCode(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, duplicates numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const counts = new Map<string, number>();
  const withoutFences = markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
  for (const match of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (match[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const seen = counts.get(base) ?? 0;
    counts.set(base, seen + 1);
    slugs.add(seen === 0 ? base : `${base}-${seen}`);
  }
  return slugs;
}

/** Relative link targets of a page (http(s) and mailto links are not checked). */
function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const match of stripCode(markdown).matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1] ?? '';
    if (target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
  }
  return links;
}

/** The broken links of one page, as "target: reason". */
function brokenLinks(pagePath: string, markdown: string): string[] {
  const broken: string[] = [];
  for (const target of relativeLinks(markdown)) {
    const [pathPart = '', fragment] = target.split('#', 2);
    const file = pathPart === '' ? pagePath : resolve(dirname(pagePath), decodeURIComponent(pathPart));
    if (!existsSync(file)) {
      broken.push(`${target}: no file ${relative(repoRoot, file)}`);
      continue;
    }
    if (fragment !== undefined && file.endsWith('.md') && !headingSlugs(readFileSync(file, 'utf8')).has(fragment)) {
      broken.push(`${target}: no heading #${fragment} in ${relative(repoRoot, file)}`);
    }
  }
  return broken;
}

const docsDir = join(repoRoot, 'docs');
const pages = [join(repoRoot, 'README.md'), ...readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => join(docsDir, f))];

describe('docs', () => {
  it('the checker finds a missing file and a missing heading, and accepts GitHub slugs', () => {
    const page = join(docsDir, 'README.md');
    expect(headingSlugs('# Testnet in real processes (`deploy-testnet --mode processes`)\n## A b\n## A b\n')).toEqual(
      new Set(['testnet-in-real-processes-deploy-testnet---mode-processes', 'a-b', 'a-b-1']),
    );
    expect(brokenLinks(page, '[x](NOPE.md) [y](TESTING.md#no-such-heading) `[z](IN_CODE.md)`')).toEqual([
      'NOPE.md: no file docs/NOPE.md',
      'TESTING.md#no-such-heading: no heading #no-such-heading in docs/TESTING.md',
    ]);
    expect(brokenLinks(page, '[ok](TESTING.md#the-simulator) [web](https://example.org/x.md) [up](../README.md#scripts)')).toEqual([]);
  });

  it('has the docs/ pages the README points to', () => {
    expect(pages.length).toBeGreaterThan(8);
  });

  it.each(pages.map((p) => [relative(repoRoot, p), p]))('every relative link in %s resolves', (_name, page) => {
    expect(brokenLinks(page, readFileSync(page, 'utf8'))).toEqual([]);
  });

  it('every page of docs/ is linked from docs/README.md', () => {
    const index = relativeLinks(readFileSync(join(docsDir, 'README.md'), 'utf8')).map((t) => t.split('#')[0]);
    const unlinked = pages.filter((p) => p.startsWith(docsDir) && !p.endsWith('README.md')).map((p) => relative(docsDir, p)).filter((f) => !index.includes(f));
    expect(unlinked).toEqual([]);
  });

  it(`README.md stays a front page (under ${README_LINES_MAX} lines)`, () => {
    const lines = readFileSync(join(repoRoot, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThan(README_LINES_MAX);
  });
});

describe('error codes are documented', () => {
  it('every admission error code has a row in docs/VERIFIER.md', async () => {
    const { ADMISSION_ERROR_CODES } = await import('../../src/core/admission/errors.js');
    const doc = readFileSync(join(repoRoot, 'docs/VERIFIER.md'), 'utf8');
    const missing = Object.keys(ADMISSION_ERROR_CODES).filter((code) => !doc.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });

  it('every tx door code (POST /txs 400, GET /txs/:hash dropped) has a row in docs/API_REFERENCE.md', async () => {
    const { TX_DOOR_CODES } = await import('../../src/api/openapi.js');
    const { TX_EXPIRED } = await import('../../src/core/pool/tx-pool.js');
    const doc = readFileSync(join(repoRoot, 'docs/API_REFERENCE.md'), 'utf8');
    const missing = [...Object.keys(TX_DOOR_CODES), TX_EXPIRED].filter((code) => !doc.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });
});
