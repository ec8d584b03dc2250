// Importing a package that may not be installed (the native and GPU backends), by a name the type checker does not
// resolve. Its own module so that an artifact, which carries no such backend, can replace it (artifact/carried-tfjs.ts).
export function importPackage(specifier: string): Promise<unknown> {
  return import(specifier);
}
