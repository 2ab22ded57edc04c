// The import graph is the architecture: each folder of src/ is a layer, and these fences say what it may import.
// src/core is pure and deterministic: clock, network, disk, randomness and Z3 reach it only through src/ports.
// A relative import crosses into another layer by naming its folder ('../../adapters/...'), so a layer's fence
// lists the folders it must not name. ESLint applies ONE no-restricted-imports per file (the last matching
// block wins), so every fence below repeats the rule that nothing imports src/cli.
// test/unit/lint-fences.test.ts checks each fence fires on a forbidden import and stays quiet on an allowed one.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'fs/promises', 'net', 'http', 'https', 'crypto', 'os', 'path', 'child_process', 'worker_threads', 'timers', 'buffer'];
const impureModules = [
  'node:*',
  'pino', 'express', 'classic-level', 'piscina', 'z3-solver', 'libp2p', '@libp2p/*', '@chainsafe/*', 'prom-client', 'ink', 'react',
];

/** A pattern that forbids importing from the named layers (folders of src/). */
function layers(names, message) {
  return { group: names.map((name) => `**/${name}/**`), message };
}

/** Nothing imports the commands: they are entry points, run by scripts/. */
const noCli = layers(['cli'], 'Nothing imports src/cli: commands are entry points (scripts/ runs them); move what you need out of it.');

/**
 * The HTTP body reader is a small client-side helper the monitor and the testnet harness use to read a node's
 * answers with a size cap; the rest of src/adapters is the node's.
 */
const adaptersButBoundedReader = '(^|/)adapters/(?!http/read-bounded\\.js$)';

/** One fence: no-restricted-imports for `files`, with the cli rule added. */
function fence(files, { paths = [], patterns = [], ignores } = {}) {
  return {
    files,
    ...(ignores ? { ignores } : {}),
    rules: { 'no-restricted-imports': ['error', { paths, patterns: [...patterns, noCli] }] },
  };
}

/** Globals a pure, deterministic layer may not touch (src/core, src/ports). */
const pureGlobals = [
  { name: 'process', message: 'src/core is pure: no process.' },
  { name: 'setTimeout', message: 'Emit a schedule-timeout effect instead.' },
  { name: 'setInterval', message: 'Emit a schedule-timeout effect instead.' },
  { name: 'setImmediate', message: 'src/core has no timers.' },
  { name: 'performance', message: 'Time comes from the injected clock.' },
  { name: 'fetch', message: 'src/core does no I/O.' },
  { name: 'crypto', message: 'Use src/crypto (deterministic hashing and signatures).' },
  { name: 'Buffer', message: 'src/core runs on Uint8Array and hex (src/crypto/hash.ts); Buffer is Node-only.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },

  // Everywhere (src/cluster, tests and any new folder included): nothing imports src/cli.
  fence(['src/**/*.{ts,tsx,mts}', 'test/**/*.{ts,tsx,mts}'], { ignores: ['src/cli/**'] }),

  // core: only core, ports and src/crypto (and pure libraries such as zod); no Node, no I/O, no clock, no Buffer.
  fence(['src/core/**/*.{ts,tsx,mts}'], {
    paths: nodeBuiltins.map((name) => ({ name, message: 'src/core is pure: no Node built-ins.' })),
    patterns: [
      { group: impureModules, message: 'src/core is pure: take I/O, clock, randomness and Z3 through a port (src/ports).' },
      layers(['adapters', 'node', 'api', 'sim', 'monitor', 'testnet', 'cluster', 'client', 'util'], 'src/core imports only core, ports and src/crypto.'),
    ],
  }),
  {
    files: ['src/core/**/*.{ts,tsx,mts}', 'src/ports/**/*.{ts,tsx,mts}'],
    rules: {
      'no-restricted-globals': ['error', ...pureGlobals],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Time comes from the injected clock (an event field).' },
        { object: 'Math', property: 'random', message: 'Randomness comes from a seeded port.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date']", message: 'Time comes from the injected clock.' },
      ],
    },
  },

  // ports: interfaces (and their typed errors) only: other ports, and types from core.
  fence(['src/ports/**/*.{ts,tsx,mts}'], {
    patterns: [
      { regex: '^(?!\\.\\.?/)', message: 'src/ports declares interfaces: no packages, no Node built-ins.' },
      { regex: '^\\.\\./(?!core/)|^\\.\\./\\.\\./', message: 'src/ports imports only other ports and core types.' },
      { regex: '^\\.\\./core/', allowTypeImports: true, message: 'src/ports imports only types from core (import type).' },
    ],
  }),

  // crypto: deterministic hashing and signatures over node:crypto; imported by core, so it imports no layer.
  fence(['src/crypto/**/*.{ts,tsx,mts}'], {
    patterns: [
      { regex: '^\\.\\./', message: 'src/crypto is a leaf: it imports no other layer (core imports it).' },
      { group: [...impureModules, '!node:crypto'], message: 'src/crypto uses node:crypto and pure libraries only.' },
    ],
  }),

  // adapters: Node implementations of the ports; they know core and ports, never who wires or drives them.
  fence(['src/adapters/**/*.{ts,tsx,mts}'], {
    patterns: [layers(['node', 'api', 'sim', 'testnet', 'monitor', 'cluster', 'client'], 'src/adapters implement ports: they import core, ports and crypto, not the node, api, simulator or tools.')],
  }),

  // api: createApp(deps); the node passes everything in, so the api knows core and ports only.
  fence(['src/api/**/*.{ts,tsx,mts}'], {
    patterns: [layers(['node', 'adapters', 'sim', 'testnet', 'monitor', 'cluster', 'client'], 'src/api gets its dependencies from createApp(deps): no node, adapters or tools.')],
  }),

  // sim: the deterministic simulator runs core through simulated ports, never real I/O.
  fence(['src/sim/**/*.{ts,tsx,mts}'], {
    patterns: [layers(['adapters', 'node', 'api', 'testnet', 'monitor', 'cluster', 'client'], 'src/sim runs core on simulated ports: no adapters, node or api.')],
  }),

  // node: wiring of core, adapters and api; it never reaches up to tools.
  fence(['src/node/**/*.{ts,tsx,mts}'], {
    patterns: [layers(['sim', 'testnet', 'monitor', 'cluster', 'client'], 'src/node wires core, adapters and api; the simulator and tools are not part of a validator.')],
  }),

  // client: the typed client of the HTTP API (src/client), for tools and tests: the API's schemas (never the express
  // app), core's pure checks (receipts), the bounded body reader; nothing of a validator's internals or the tools.
  fence(['src/client/**/*.{ts,tsx,mts}'], {
    patterns: [
      { regex: adaptersButBoundedReader, message: 'src/client reads nodes over HTTP: no adapters (only the bounded body reader).' },
      { regex: '(^|/)api/(?!schemas\\.js$)', message: 'src/client parses answers with the API\'s schemas (src/api/schemas.ts); the express app is the server\'s.' },
      layers(['node', 'sim', 'testnet', 'monitor', 'cluster'], 'src/client is a client of the HTTP API: no node, simulator or tools.'),
    ],
  }),

  // monitor: a client of nodes' HTTP API (src/client, with its own looser contract.ts), not part of a validator.
  fence(['src/monitor/**/*.{ts,tsx,mts}'], {
    patterns: [
      { regex: adaptersButBoundedReader, message: 'src/monitor reads nodes over HTTP: no adapters (only the bounded body reader).' },
      layers(['node', 'api', 'sim', 'testnet'], 'src/monitor reads nodes over HTTP through src/client and its own contract (contract.ts): no node, api or simulator.'),
    ],
  }),

  // testnet: the deploy-testnet harness, over the simulator or over validator processes.
  fence(['src/testnet/**/*.{ts,tsx,mts}'], {
    patterns: [
      { regex: adaptersButBoundedReader, message: 'src/testnet runs validators as processes or in the simulator: no adapters (only the bounded body reader).' },
      layers(['monitor'], 'src/testnet does not import the monitor.'),
    ],
  }),

  // cluster: launches validator processes on this machine (start, bench:network, deploy-testnet, e2e tests) and
  // talks to them over HTTP like any client: no node internals, no adapters (only the bounded body reader).
  fence(['src/cluster/**/*.{ts,tsx,mts}'], {
    patterns: [
      { regex: adaptersButBoundedReader, message: 'src/cluster runs validators as processes: no adapters (only the bounded body reader).' },
      layers(['node', 'api', 'sim', 'testnet', 'monitor'], 'src/cluster runs validators as processes and reads them over HTTP: no node, api, simulator, testnet or monitor.'),
    ],
  }),
);
