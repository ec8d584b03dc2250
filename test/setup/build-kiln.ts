// vitest globalSetup: tests run `node bin/kiln.js`, which runs lib/; build it first so that no test runs a stale
// build. A no-op when lib/ was built from the same sources.
import { buildKiln } from '../../scripts/build.ts';

export default async function setup(): Promise<void> {
  await buildKiln();
}
