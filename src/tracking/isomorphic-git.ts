// isomorphic-git, required rather than imported. Its Node entry is one 580 kB CommonJS file: imported from an ES
// module, Node first scans it (and what it re-exports) for named exports, which made loading it cost ~185 ms of CPU
// instead of ~55 ms, in every `kiln run` that stamps git. `import git from 'isomorphic-git'` is this same object.
import { createRequire } from 'node:module';
import type isomorphicGit from 'isomorphic-git';

const git = createRequire(import.meta.url)('isomorphic-git') as typeof isomorphicGit;
export default git;
