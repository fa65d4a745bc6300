// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.data/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    files: ['**/tests/**', 'bench/**', 'jest.*'],
    rules: { 'no-console': 'off' },
  },
  {
    // The layers of docs/architecture.md ("Code map") that a linter can see: production code never
    // imports the test kit, and a repository never reaches up into services or controllers.
    files: ['common/src/**/*.ts', '*_service/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@analytics/testkit'], message: 'The test kit is for tests only.' }] },
      ],
    },
  },
  {
    files: ['*_service/src/repositories/**/*.ts', '*_service/src/queries/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@analytics/testkit'], message: 'The test kit is for tests only.' },
            {
              group: ['../services/*', '../controllers/*', '../routes/*', '../middlewares/*'],
              message: 'Data access is the bottom layer: it depends on models and common only.',
            },
          ],
        },
      ],
    },
  },
);
