// The import graph is the architecture: src/core is pure and deterministic.
// Clock, network, disk, randomness and Z3 reach it only through src/ports.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'fs/promises', 'net', 'http', 'https', 'crypto', 'os', 'path', 'child_process', 'worker_threads', 'timers'];
const impureModules = [
  'node:*',
  'pino', 'express', 'classic-level', 'piscina', 'z3-solver', 'libp2p', '@libp2p/*', '@chainsafe/*', 'prom-client', 'ink', 'react',
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
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'src/core is pure: no Node built-ins.' })),
        patterns: [
          { group: impureModules, message: 'src/core is pure: take I/O, clock, randomness and Z3 through a port (src/ports).' },
          { group: ['**/adapters/**', '**/node/**', '**/api/**', '**/cli/**', '**/sim/**'], message: 'src/core imports only core, ports and src/crypto.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'src/core is pure: no process.' },
        { name: 'setTimeout', message: 'Emit a schedule-timeout effect instead.' },
        { name: 'setInterval', message: 'Emit a schedule-timeout effect instead.' },
        { name: 'setImmediate', message: 'src/core has no timers.' },
        { name: 'performance', message: 'Time comes from the injected clock.' },
        { name: 'fetch', message: 'src/core does no I/O.' },
        { name: 'crypto', message: 'Use src/crypto (deterministic hashing and signatures).' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Time comes from the injected clock (an event field).' },
        { object: 'Math', property: 'random', message: 'Randomness comes from a seeded port.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date']", message: 'Time comes from the injected clock.' },
      ],
    },
  },
);
