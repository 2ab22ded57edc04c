/**
 * The launcher behind every script (scripts/lib/run-ts): it runs dist/cli/NAME.js with plain node while the build
 * (scripts/build, `npm run build`) is newer than every file under src/ and both tsconfigs, else src/cli/NAME.ts
 * through tsx, in ONE process either way. Exercised on a temp copy of the launcher over a tiny tree with real files
 * and real timestamps (an edit, a nested edit, a deletion, an edit that puts the old mtime back, a tsconfig).
 * scripts/build on a temp tree (outputs, copied files, outputs of deleted sources and deleted outputs, type errors).
 * Then the real build: compiled code runs (a script's --help, the Z3 worker's .mjs, the explorer's files).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A child process run without blocking this test worker's event loop: vitest's worker answers its runner over RPC,
 * and a spawnSync of a tsc build or a Z3 start that outlasts the RPC timeout under a loaded CI machine fails the run
 * ("Timeout calling onTaskUpdate") even though every test passed.
 */
function spawnAsync(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ status: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr, pid: child.pid ?? -1 }));
  });
}

/** The probe: says which tree ran it, its pid and node flags, then exits with the code it was given. */
function probeSource(from: 'src' | 'dist'): string {
  return `console.log(JSON.stringify({ from: '${from}', pid: process.pid, execArgv: process.execArgv, args: process.argv.slice(2) }));
process.exitCode = Number(process.argv[process.argv.length - 1]);
`;
}

interface ProbeRun {
  from: string;
  pid: number;
  execArgv: string[];
  args: string[];
  status: number | null;
  childPid: number;
}

/** File timestamps move in kernel ticks (a few ms): wait past one so "after" is strictly later. */
function nextTick(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
}

describe('scripts/lib/run-ts: dist when fresh, tsx otherwise', { timeout: 120_000 }, () => {
  let root = '';
  const stamp = (): string => join(root, 'dist/.build-stamp');

  /** What scripts/build does last: a stamp dated now (the build's start). */
  function build(): void {
    nextTick();
    writeFileSync(stamp(), '');
    nextTick();
  }

  async function run(name = 'probe', env: Record<string, string> = {}): Promise<ProbeRun> {
    const r = await spawnAsync(join(root, 'scripts/lib/run-ts'), [name, 'two words', '7'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    if (r.stdout === '') throw new Error(`run-ts printed nothing (status ${r.status}): ${r.stderr}`);
    return { ...(JSON.parse(r.stdout) as Omit<ProbeRun, 'status' | 'childPid'>), status: r.status, childPid: r.pid };
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pop-run-ts-'));
    mkdirSync(join(root, 'scripts/lib'), { recursive: true });
    copyFileSync(join(ROOT, 'scripts/lib/run-ts'), join(root, 'scripts/lib/run-ts'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    for (const dir of ['src/cli', 'src/core', 'dist/cli']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'src/cli/probe.ts'), probeSource('src'));
    writeFileSync(join(root, 'src/cli/only-src.ts'), probeSource('src'));
    writeFileSync(join(root, 'src/core/deep.ts'), 'export const deep = 1;\n');
    writeFileSync(join(root, 'src/core/gone.ts'), 'export const gone = 1;\n');
    writeFileSync(join(root, 'dist/cli/probe.js'), probeSource('dist'));
    writeFileSync(join(root, 'tsconfig.json'), '{}\n');
    writeFileSync(join(root, 'tsconfig.build.json'), '{}\n');
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('runs src/ through tsx while there is no build, in one process that keeps the exit code and arguments', async () => {
    const r = await run();
    expect(r.from).toBe('src');
    expect(r.pid).toBe(r.childPid);
    expect(r.status).toBe(7);
    expect(r.args).toEqual(['two words', '7']);
    expect(r.execArgv.some((a) => a.includes('tsx'))).toBe(true);
  });

  it('runs dist/ with plain node once built, in one process, with source maps on', async () => {
    build();
    const r = await run();
    expect(r.from).toBe('dist');
    expect(r.pid).toBe(r.childPid);
    expect(r.status).toBe(7);
    expect(r.args).toEqual(['two words', '7']);
    expect(r.execArgv).toContain('--enable-source-maps');
    expect(r.execArgv.some((a) => a.includes('tsx'))).toBe(false);
  });

  it('POP_NO_DIST forces tsx; POP_NODE_FLAGS reach node on both paths', async () => {
    expect((await run('probe', { POP_NO_DIST: '1' })).from).toBe('src');
    const flags = { POP_NODE_FLAGS: '--max-semi-space-size=4 --stack-size=2000' };
    for (const r of [await run('probe', flags), await run('probe', { ...flags, POP_NO_DIST: '1' })]) {
      expect(r.execArgv).toContain('--max-semi-space-size=4');
      expect(r.execArgv).toContain('--stack-size=2000');
    }
  });

  it('a script with no compiled file runs from src/ even when the build is fresh', async () => {
    expect((await run('only-src')).from).toBe('src');
  });

  it('goes back to tsx when the script, a nested file or a tsconfig changed after the build, until the next build', async () => {
    appendFileSync(join(root, 'src/cli/probe.ts'), '// edited\n');
    expect((await run()).from).toBe('src');
    build();
    expect((await run()).from).toBe('dist');
    appendFileSync(join(root, 'src/core/deep.ts'), '// edited\n');
    expect((await run()).from).toBe('src');
    build();
    expect((await run()).from).toBe('dist');
    const now = new Date();
    utimesSync(join(root, 'tsconfig.build.json'), now, now);
    expect((await run()).from).toBe('src');
    build();
    expect((await run()).from).toBe('dist');
  });

  it('goes back to tsx when a file under src/ was deleted after the build', async () => {
    unlinkSync(join(root, 'src/core/gone.ts'));
    expect((await run()).from).toBe('src');
    build();
    expect((await run()).from).toBe('dist');
  });

  it('goes back to tsx after an edit that set the old mtime back (cp -p, tar, rsync -a): the ctime still moved', async () => {
    const file = join(root, 'src/core/deep.ts');
    const { atime, mtime } = statSync(file);
    build();
    writeFileSync(file, 'export const deep = 2;\n');
    utimesSync(file, atime, mtime);
    expect(statSync(file).mtimeMs).toBeLessThan(statSync(stamp()).mtimeMs);
    expect((await run()).from).toBe('src');
  });
});

describe('scripts/build on a temp tree', { timeout: 180_000 }, () => {
  let root = '';
  const has = (file: string): boolean => existsSync(join(root, file));

  async function build(env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
    const r = await spawnAsync(join(root, 'scripts/build'), [], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
    return { status: r.status, stderr: r.stderr };
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pop-build-'));
    mkdirSync(join(root, 'scripts'), { recursive: true });
    copyFileSync(join(ROOT, 'scripts/build'), join(root, 'scripts/build'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    for (const dir of ['src/cli', 'src/lib/assets']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [], noEmit: true }, include: ['src'] }));
    copyFileSync(join(ROOT, 'tsconfig.build.json'), join(root, 'tsconfig.build.json'));
    writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(root, 'src/cli/main.ts'), "import { two } from '../lib/two.js';\nconsole.log(two());\n");
    writeFileSync(join(root, 'src/lib/two.ts'), 'export function two(): number {\n  return 2;\n}\n');
    writeFileSync(join(root, 'src/lib/gone.ts'), 'export const gone = 1;\n');
    writeFileSync(join(root, 'src/lib/worker.mjs'), 'export const plain = 1;\n');
    writeFileSync(join(root, 'src/lib/worker.d.mts'), 'export declare const plain: number;\n');
    writeFileSync(join(root, 'src/lib/assets/page.html'), '<p>x</p>\n');
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('compiles with source maps, copies the files tsc does not emit (not declarations), and stamps the result', async () => {
    expect((await build()).status).toBe(0);
    for (const file of ['dist/cli/main.js', 'dist/cli/main.js.map', 'dist/lib/two.js', 'dist/lib/worker.mjs', 'dist/lib/assets/page.html', 'dist/.build-stamp']) {
      expect(has(file), file).toBe(true);
    }
    expect(has('dist/lib/worker.d.mts')).toBe(false);
    expect((await spawnAsync(process.execPath, [join(root, 'dist/cli/main.js')])).stdout).toBe('2\n');
  });

  it('leaves an unchanged copied file in place and replaces a changed one by a rename (a validator starting a Z3 worker during a build never reads a half-copied file)', async () => {
    const file = join(root, 'dist/lib/worker.mjs');
    const before = statSync(file);
    expect((await build()).status).toBe(0);
    expect(statSync(file).ino).toBe(before.ino);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
    writeFileSync(join(root, 'src/lib/worker.mjs'), 'export const plain = 2;\n');
    expect((await build()).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('export const plain = 2;\n');
    expect(statSync(file).ino).not.toBe(before.ino);
  });

  it('any other failure (here a file where a directory must go) fails npm run build, and under prepare warns and exits 0 without a stamp', async () => {
    mkdirSync(join(root, 'src/blocked'), { recursive: true });
    writeFileSync(join(root, 'src/blocked/asset.txt'), 'x\n');
    writeFileSync(join(root, 'dist/blocked'), 'not a directory\n');
    expect((await build()).status).not.toBe(0);
    expect(has('dist/.build-stamp')).toBe(false);
    const prepared = await build({ npm_lifecycle_event: 'prepare' });
    expect(prepared.status).toBe(0);
    expect(prepared.stderr).toMatch(/build: failed/);
    expect(has('dist/.build-stamp')).toBe(false);
    rmSync(join(root, 'src/blocked'), { recursive: true });
    rmSync(join(root, 'dist/blocked'));
    expect((await build()).status).toBe(0);
    expect(has('dist/.build-stamp')).toBe(true);
  });

  it('writes again an output deleted by hand (the incremental build info alone would skip it)', async () => {
    unlinkSync(join(root, 'dist/lib/two.js'));
    expect((await build()).status).toBe(0);
    expect(has('dist/lib/two.js')).toBe(true);
  });

  it('removes the outputs and copies of deleted sources', async () => {
    unlinkSync(join(root, 'src/lib/gone.ts'));
    unlinkSync(join(root, 'src/lib/assets/page.html'));
    expect((await build()).status).toBe(0);
    for (const file of ['dist/lib/gone.js', 'dist/lib/gone.js.map', 'dist/lib/assets/page.html', 'dist/lib/assets']) expect(has(file), file).toBe(false);
    expect(has('dist/lib/two.js')).toBe(true);
  });

  it('a type error fails the build and leaves no stamp; under prepare (npm ci) it warns and exits 0, still without a stamp', async () => {
    writeFileSync(join(root, 'src/lib/bad.ts'), "export const bad: number = 'x';\n");
    const failed = await build();
    expect(failed.status).not.toBe(0);
    expect(has('dist/.build-stamp')).toBe(false);
    const prepared = await build({ npm_lifecycle_event: 'prepare' });
    expect(prepared.status).toBe(0);
    expect(prepared.stderr).toMatch(/tsc failed/);
    expect(has('dist/.build-stamp')).toBe(false);
    unlinkSync(join(root, 'src/lib/bad.ts'));
    expect((await build()).status).toBe(0);
    expect(has('dist/.build-stamp')).toBe(true);
    expect(has('dist/lib/bad.js')).toBe(false);
  });
});

/** The real tree's build is fresh (the launcher's own test, run here): `npm test` builds before vitest. */
function realBuildFresh(): boolean {
  const stampFile = join(ROOT, 'dist/.build-stamp');
  const r = spawnSync('find', [join(ROOT, 'src'), join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json'), '-cnewer', stampFile, '-print', '-quit'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout === '';
}

const fresh = realBuildFresh();
if (!fresh) console.log('run-ts.test: dist/ is not built or older than src/ (npm run build): the compiled-code checks are skipped');

describe.runIf(fresh)('the compiled build (dist/, made by npm run build)', () => {
  it('a script runs from dist/: its --help', async () => {
    const r = await spawnAsync(process.execPath, ['--enable-source-maps', join(ROOT, 'dist/cli/verify-proof.js'), '--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: verify-proof/);
  });

  it('the Z3 pool runs its worker (.mjs copied beside the compiled pool) and the explorer finds its files', { timeout: 60_000 }, async () => {
    const code = `
      const { PoolVerifier } = await import(${JSON.stringify(join(ROOT, 'dist/adapters/z3/index.js'))});
      const { explorerRouter } = await import(${JSON.stringify(join(ROOT, 'dist/api/explorer.js'))});
      explorerRouter();
      const pool = new PoolVerifier({ workers: 1, cacheEntriesMax: 0 });
      const result = await pool.verify({ smtlib: '(declare-const x Int)(assert (> x 1))(check-sat)', claim: 'sat' });
      await pool.close();
      console.log(result.outcome === 'verdict' ? result.verdict : 'abstain ' + result.reason);`;
    const r = await spawnAsync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('valid');
  });
});
