// Project-relative paths as declarations write them (POSIX, relative to the project root): joining a reference to the
// file that makes it, and telling whether a path leaves the project. Pure, so the semantic checks can use it without the
// YAML loader.
import path from 'node:path';

/** A path written relative to a declaration file, as a normalised project-relative path ('../x' when it escapes). */
export function joinRel(fromFile: string, ref: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), ref));
}

/** Whether a project-relative path leaves the project (absolute, or climbing out with '..'). */
export function escapesRoot(p: string): boolean {
  if (path.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p)) return true;
  const n = path.posix.normalize(p.replace(/\\/g, '/'));
  return n === '..' || n.startsWith('../');
}
