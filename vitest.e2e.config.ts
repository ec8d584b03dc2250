import { defineConfig } from 'vitest/config';
import { slowSuites } from './test/slow-suites.ts';

// `npm run test:e2e`: the long end-to-end suites (see test/slow-suites.ts). Longer limits: they train and kill.
export default defineConfig({
  test: {
    include: slowSuites,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // bin/kiln.js runs the build (lib/): rebuilt here when the sources changed.
    globalSetup: ['test/setup/build-kiln.ts'],
  },
});
