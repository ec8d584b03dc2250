// `${NAME}` in a kiln.yaml value, replaced by the environment variable NAME, so that a secret (a database password)
// lives in the environment and never in a committed file. `$${` writes a literal `${`.

export interface Substitution {
  value: string;
  /** Names referenced but not set (in order of first use, each once); the value is unusable when any is. */
  missing: string[];
  /** Names referenced and set: whoever prints a message can tell the user which variable to change. */
  used: string[];
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces each `${NAME}` of `text` with `env.NAME`; an empty value counts as set (as in a shell). */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env): Substitution {
  const missing: string[] = [];
  const used: string[] = [];
  const value = text.replace(REFERENCE, (whole, name: string | undefined) => {
    if (name === undefined) return '${';
    const v = env[name];
    if (v === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    if (!used.includes(name)) used.push(name);
    return v;
  });
  return { value, missing, used };
}

/** The names `text` references, without reading the environment. */
export function referencedVariables(text: string): string[] {
  return substituteEnv(text, {}).missing;
}
