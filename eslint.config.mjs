// Lint rules: strict TypeScript everywhere, and determinism for workflow code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers',
  'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', '.tools/**', 'coverage/**', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json' } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: no Node built-ins, no I/O clients, nothing non-deterministic.
    files: ['src/workflows/**/*.ts', 'src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Workflow code must stay deterministic: no Node built-ins.' })),
          { name: 'pg', message: 'Database access belongs in activities.', allowTypeImports: true },
          { name: 'undici', message: 'HTTP belongs in activities.', allowTypeImports: true },
          { name: '@temporalio/activity', message: 'Workflows do not import activity code.', allowTypeImports: true },
        ],
        patterns: [{ group: ['**/activities/**', '**/worker/**', '**/client/**'], message: 'Workflows import only @temporalio/workflow, common/ and types.', allowTypeImports: true }],
      }],
    },
  },
);
