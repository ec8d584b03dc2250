// A promise-shaped file system for isomorphic-git backed by Node's synchronous calls. Reading a repository is
// thousands of tiny stats and reads; each asynchronous call is a round trip through libuv's thread pool, which made
// the git stamp of a run take a third of a second. The synchronous calls do the same work in a fraction of that.
import fs from 'node:fs';

const wrap =
  <A extends unknown[], R>(fn: (...args: A) => R) =>
  async (...args: A): Promise<R> =>
    fn(...args);

/** Read-mostly: the git stamp only reads. Writes go to the asynchronous API, unchanged. */
export const syncBackedFs = {
  promises: {
    ...fs.promises,
    readFile: wrap(fs.readFileSync as (...a: unknown[]) => unknown),
    readdir: wrap(fs.readdirSync as (...a: unknown[]) => unknown),
    stat: wrap(fs.statSync as (...a: unknown[]) => unknown),
    lstat: wrap(fs.lstatSync as (...a: unknown[]) => unknown),
    readlink: wrap(fs.readlinkSync as (...a: unknown[]) => unknown),
  },
};
