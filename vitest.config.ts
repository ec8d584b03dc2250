import { defineConfig } from 'vitest/config';
import { slowSuites } from './test/slow-suites.ts';

// `npm test`: every suite but the long end-to-end ones (`npm run test:e2e`, vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...slowSuites],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // bin/kiln.js runs the build (lib/): rebuilt here when the sources changed.
    globalSetup: ['test/setup/build-kiln.ts'],
  },
});
