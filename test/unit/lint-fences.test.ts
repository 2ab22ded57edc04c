import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layer fences of eslint.config.js, checked on small snippets placed at virtual paths in each layer: every
// rule must fire on a forbidden import (or global) and stay quiet on an allowed one.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const eslint = new ESLint({ cwd: root });

/** The fence rules `code` breaks when it sits at `file` (a path relative to the repository root), each named once. */
async function fenceHits(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  const fenceRules: readonly string[] = ['no-restricted-imports', 'no-restricted-globals', 'no-restricted-properties'];
  const hits = (result?.messages ?? []).filter((m) => m.ruleId !== null && fenceRules.includes(m.ruleId)).map((m) => m.ruleId as string);
  return [...new Set(hits)];
}

/** `[file, import source]` pairs; the snippet is a side-effect import, the simplest import of all. */
type Case = readonly [file: string, source: string];

function checkImports(forbidden: readonly Case[], allowed: readonly Case[]): void {
  it.each(forbidden)('%s may not import %s', async (file, source) => {
    expect(await fenceHits(file, `import '${source}';\n`)).toEqual(['no-restricted-imports']);
  });
  it.each(allowed)('%s may import %s', async (file, source) => {
    expect(await fenceHits(file, `import '${source}';\n`)).toEqual([]);
  });
}

const core = 'src/core/consensus/fence-probe.ts';
const ports = 'src/ports/fence-probe.ts';

describe('lint fences: src/core', () => {
  checkImports(
    [
      [core, 'node:fs'],
      [core, 'fs'],
      [core, 'buffer'],
      [core, 'pino'],
      [core, '@libp2p/tcp'],
      [core, '../../adapters/wal/sync-file-wal.js'],
      [core, '../../node/node.js'],
      [core, '../../api/app.js'],
      [core, '../../cli/sim.js'],
      [core, '../../sim/rng.js'],
      [core, '../../monitor/poll.js'],
      [core, '../../testnet/report.js'],
      [core, '../../cluster/local-cluster.js'],
      [core, '../../client/index.js'],
    ],
    [
      [core, '../types/consensus.js'],
      [core, '../../ports/clock.js'],
      [core, '../../crypto/hash.js'],
      [core, 'zod'],
    ],
  );

  it('forbids the Buffer global, timers, process and the wall clock; allows Uint8Array', async () => {
    expect(await fenceHits(core, "export const b = Buffer.from('x');\n")).toEqual(['no-restricted-globals']);
    expect(await fenceHits(core, 'setTimeout(() => {}, 1);\n')).toEqual(['no-restricted-globals']);
    expect(await fenceHits(core, 'export const e = process.env;\n')).toEqual(['no-restricted-globals']);
    expect(await fenceHits(core, 'export const t = Date.now();\n')).toEqual(['no-restricted-properties']);
    expect(await fenceHits(core, 'export const r = Math.random();\n')).toEqual(['no-restricted-properties']);
    expect(await fenceHits(core, 'export const u = new Uint8Array(32);\n')).toEqual([]);
  });
});

describe('lint fences: src/ports', () => {
  checkImports(
    [
      [ports, 'zod'],
      [ports, 'node:fs'],
      [ports, '../adapters/wal/sync-file-wal.js'],
      [ports, '../crypto/hash.js'],
      [ports, '../sim/memory-stores.js'],
      [ports, '../../package.json'],
    ],
    [[ports, './clock.js']],
  );

  it('takes types from core, never values', async () => {
    expect(await fenceHits(ports, "import type { Block } from '../core/types/consensus.js';\nexport type B = Block;\n")).toEqual([]);
    expect(await fenceHits(ports, "import { handle } from '../core/consensus/state-machine.js';\nexport const h = handle;\n")).toEqual(['no-restricted-imports']);
    expect(await fenceHits(ports, "export * from './log.js';\n")).toEqual([]);
    expect(await fenceHits(ports, "export * from '../adapters/http/read-bounded.js';\n")).toEqual(['no-restricted-imports']);
  });

  it('is as pure as core: no Buffer, no wall clock', async () => {
    expect(await fenceHits(ports, "export const b = Buffer.alloc(1);\n")).toEqual(['no-restricted-globals']);
    expect(await fenceHits(ports, 'export const t = Date.now();\n')).toEqual(['no-restricted-properties']);
  });
});

describe('lint fences: src/crypto', () => {
  checkImports(
    [
      ['src/crypto/fence-probe.ts', '../core/types/consensus.js'],
      ['src/crypto/fence-probe.ts', '../ports/clock.js'],
      ['src/crypto/fence-probe.ts', 'node:fs'],
      ['src/crypto/fence-probe.ts', 'pino'],
    ],
    [
      ['src/crypto/fence-probe.ts', 'node:crypto'],
      ['src/crypto/fence-probe.ts', './hash.js'],
      ['src/crypto/fence-probe.ts', 'merkletreejs'],
    ],
  );
});

describe('lint fences: src/adapters', () => {
  const file = 'src/adapters/wal/fence-probe.ts';
  checkImports(
    [
      [file, '../../node/node.js'],
      [file, '../../api/app.js'],
      [file, '../../cli/start.js'],
      [file, '../../sim/rng.js'],
      [file, '../../testnet/report.js'],
      [file, '../../monitor/poll.js'],
    ],
    [
      [file, '../../core/limits.js'],
      [file, '../../ports/wal.js'],
      [file, '../fs/durable-file.js'],
      [file, '../../crypto/hash.js'],
      [file, 'node:fs'],
    ],
  );
});

describe('lint fences: src/api', () => {
  const file = 'src/api/fence-probe.ts';
  checkImports(
    [
      [file, '../node/node.js'],
      [file, '../adapters/store/chain-store.js'],
      [file, '../cli/start.js'],
      [file, '../sim/rng.js'],
    ],
    [
      [file, '../core/types/proof.js'],
      [file, '../ports/log.js'],
      [file, './schemas.js'],
      [file, 'express'],
    ],
  );
});

describe('lint fences: src/sim', () => {
  const file = 'src/sim/fence-probe.ts';
  checkImports(
    [
      [file, '../adapters/wal/sync-file-wal.js'],
      [file, '../node/node.js'],
      [file, '../api/app.js'],
      [file, '../cli/sim.js'],
    ],
    [
      [file, '../core/consensus/driver.js'],
      [file, '../ports/clock.js'],
      [file, '../crypto/ed25519.js'],
      [file, './rng.js'],
    ],
  );
});

describe('lint fences: src/node', () => {
  const file = 'src/node/fence-probe.ts';
  checkImports(
    [
      [file, '../cli/start-validator.js'],
      [file, '../sim/cluster.js'],
      [file, '../testnet/report.js'],
      [file, '../monitor/poll.js'],
    ],
    [
      [file, '../adapters/store/chain-store.js'],
      [file, '../api/app.js'],
      [file, '../core/consensus/driver.js'],
      [file, 'node:fs'],
    ],
  );
});

describe('lint fences: src/monitor and src/testnet', () => {
  const monitor = 'src/monitor/fence-probe.ts';
  const testnet = 'src/testnet/fence-probe.ts';
  checkImports(
    [
      [monitor, '../node/node.js'],
      [monitor, '../adapters/store/chain-store.js'],
      [monitor, '../adapters/http/other.js'],
      [monitor, '../api/schemas.js'],
      [monitor, '../cli/monitor-network.js'],
      [testnet, '../adapters/wal/sync-file-wal.js'],
      [testnet, '../monitor/poll.js'],
      [testnet, '../cli/deploy-testnet.js'],
    ],
    [
      [monitor, '../adapters/http/read-bounded.js'],
      [monitor, '../client/index.js'],
      [monitor, '../core/ledger/params.js'],
      [monitor, 'ink'],
      [testnet, '../adapters/http/read-bounded.js'],
      [testnet, '../sim/cluster.js'],
      [testnet, '../node/loopback-cluster.js'],
    ],
  );
});

describe('lint fences: src/client', () => {
  const client = 'src/client/fence-probe.ts';
  checkImports(
    [
      [client, '../api/app.js'],
      [client, '../node/node.js'],
      [client, '../adapters/store/chain-store.js'],
      [client, '../monitor/poll.js'],
      [client, '../cluster/proc.js'],
      [client, '../cli/submit-proof.js'],
      ['src/api/fence-probe.ts', '../client/index.js'],
      ['src/node/fence-probe.ts', '../client/index.js'],
    ],
    [
      [client, '../api/schemas.js'],
      [client, '../adapters/http/read-bounded.js'],
      [client, '../core/ledger/results.js'],
      [client, 'zod'],
    ],
  );
});

describe('lint fences: nothing imports src/cli', () => {
  const layers = readdirSync(join(root, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'cli')
    .map((d) => d.name);

  it('covers every folder of src/', () => {
    expect(layers).toEqual(expect.arrayContaining(['core', 'ports', 'adapters', 'sim', 'node', 'api', 'monitor', 'testnet', 'crypto']));
  });

  checkImports(
    [
      ...layers.map((layer): Case => [`src/${layer}/fence-probe.ts`, '../cli/start.js']),
      ['src/cluster/fence-probe.ts', '../cli/start.js'],
      ['test/unit/fence-probe.test.ts', '../../src/cli/sim.js'],
    ],
    [
      ['src/cli/fence-probe.ts', './sim.js'],
      ['src/cli/fence-probe.ts', '../node/node.js'],
      ['src/cli/fence-probe.ts', '../adapters/z3/index.js'],
      ['test/unit/fence-probe.test.ts', '../../src/adapters/wal/sync-file-wal.js'],
    ],
  );
});

describe('lint fences: src/cluster', () => {
  const cluster = 'src/cluster/fence-probe.ts';
  checkImports(
    [
      [cluster, '../node/node.js'],
      [cluster, '../adapters/z3/pool-verifier.js'],
      [cluster, '../sim/cluster.js'],
      [cluster, '../testnet/processes.js'],
      [cluster, '../monitor/poll.js'],
      [cluster, '../api/app.js'],
      [cluster, '../cli/start.js'],
    ],
    [
      [cluster, '../adapters/http/read-bounded.js'],
      [cluster, '../core/limits.js'],
      [cluster, 'node:child_process'],
    ],
  );
});
