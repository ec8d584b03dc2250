// Builds kiln's own code from src/ to lib/: JavaScript per file (esbuild), the files code reads at run time beside it
// (templates), the kiln ui front end (src/ui/app/, bundled for the browser into lib/ui/app/), the declaration schemas'
// validators (ajv standalone), and with --declarations the .d.ts files (tsc) that a published package carries. The bin and the
// package exports run lib/, so no command pays for transpiling kiln. A stamp of the sources makes an up-to-date build
// a no-op, so tests and benches can build first and never run a stale lib/.
// Run: npm run build (JavaScript; declarations forward to src/), npm run build -- --declarations (as npm pack does).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { build, type Plugin } from 'esbuild';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = '.build-stamp.json';

/** The package's entry points (package.json exports), as source module → built module without extension. */
export const ENTRY_POINTS = [
  { subpath: '.', module: 'index' },
  { subpath: './ml', module: 'ml/index' },
] as const;

export interface BuildOptions {
  root?: string;
  /** Where the build goes (default <root>/lib). */
  outDir?: string;
  /** Real .d.ts files from tsc (slow: type-checks); without, the entry points' declarations forward to src/. */
  declarations?: boolean;
}

export interface BuildResult {
  built: boolean;
  ms: number;
  outDir: string;
}

function sourceFiles(srcDir: string): string[] {
  return fs
    .readdirSync(srcDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(srcDir, path.join(e.parentPath, e.name)))
    .sort();
}

function stampOf(root: string, files: string[]): string {
  const h = createHash('sha256').update(fs.readFileSync(fileURLToPath(import.meta.url)));
  h.update(fs.readFileSync(path.join(root, 'tsconfig.json')));
  // The front end bundles its libraries (dagre, uPlot): a new locked version is a new build.
  h.update(fs.readFileSync(path.join(root, 'package-lock.json')));
  // The precompiled validators are made from schema/.
  for (const f of fs.readdirSync(path.join(root, 'schema')).sort()) h.update(`schema/${f}\0`).update(fs.readFileSync(path.join(root, 'schema', f))).update('\0');
  for (const f of files) h.update(`${f}\0`).update(fs.readFileSync(path.join(root, 'src', f))).update('\0');
  return h.digest('hex');
}

interface Stamp {
  stamp: string;
  declarations: boolean;
}

function readStamp(outDir: string): Stamp | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(outDir, STAMP), 'utf8')) as Stamp;
  } catch {
    return null;
  }
}

// Each source file becomes one module; its relative imports name the built sibling ('./x.ts' → './x.js').
const relativeImportsStay: Plugin = {
  name: 'relative-imports-stay',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => ({ path: args.path.replace(/\.ts$/, '.js'), external: true }));
  },
};

/**
 * Packages kiln carries inside lib/ as one module each, for the commands that start often: `yaml` is some 70 CommonJS
 * files, and resolving and compiling them one by one was about a fifth of `kiln validate`'s CPU (the same code as one
 * module loads in under half the time). Its version is the one the lockfile installs, as for any other dependency.
 */
const CARRIED = ['yaml'] as const;
const carriedModule = (pkg: string) => `vendor/${pkg}.js`;

// Each kiln module imports a carried package from the built copy, by a path relative to where the module is built.
const carriedPackages = (srcDir: string): Plugin => ({
  name: 'carried-packages',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${CARRIED.join('|')})$`) }, (args) => {
      const from = path.dirname(path.relative(srcDir, args.importer));
      const rel = path.relative(from, carriedModule(args.path)).split(path.sep).join('/');
      return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
    });
  },
});

async function buildCarried(outDir: string): Promise<void> {
  const require = createRequire(import.meta.url);
  for (const pkg of CARRIED) {
    // The Node build of the package (CommonJS), with its names exported as an ES module's, as kiln's code imports them.
    const names = Object.keys(require(pkg) as object).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
    await build({
      stdin: { contents: `import carried from ${JSON.stringify(require.resolve(pkg))};\nexport const { ${names.join(', ')} } = carried;\n`, resolveDir: repoRoot, loader: 'js' },
      outfile: path.join(outDir, carriedModule(pkg)),
      // CommonJS code requires Node's built-in modules ('process'); an ES module has no require of its own.
      banner: { js: "import { createRequire as __carriedRequire } from 'node:module';\nconst require = __carriedRequire(import.meta.url);" },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
      legalComments: 'inline',
    });
  }
}

/** The browser app of kiln ui: its own bundle (one script, one style sheet, the page), not Node modules. */
const UI_APP = `ui${path.sep}app${path.sep}`;

async function buildUiApp(srcDir: string, outDir: string): Promise<void> {
  const dir = path.join(outDir, 'ui', 'app');
  await build({
    entryPoints: { app: path.join(srcDir, UI_APP, 'main.ts') },
    outdir: dir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
    legalComments: 'eof',
  });
  fs.copyFileSync(path.join(srcDir, UI_APP, 'index.html'), path.join(dir, 'index.html'));
}

async function buildJavaScript(srcDir: string, outDir: string, allFiles: string[]): Promise<void> {
  const files = allFiles.filter((f) => !f.startsWith(UI_APP));
  const modules = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  await buildCarried(outDir);
  await build({
    entryPoints: modules.map((f) => path.join(srcDir, f)),
    outdir: outDir,
    outbase: srcDir,
    bundle: true,
    packages: 'external',
    plugins: [carriedPackages(srcDir), relativeImportsStay],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'inline',
  });
  // Templates and other files code reads through import.meta.url, at the same place relative to the code.
  for (const f of files.filter((x) => !x.endsWith('.ts'))) {
    fs.mkdirSync(path.dirname(path.join(outDir, f)), { recursive: true });
    fs.copyFileSync(path.join(srcDir, f), path.join(outDir, f));
  }
  await buildUiApp(srcDir, outDir);
}

// The declaration schemas compiled ahead of time (ajv standalone code, CommonJS, loaded by src/config/schemas.ts).
async function buildValidators(outDir: string): Promise<void> {
  const { Ajv } = await import('ajv');
  const standaloneCode = createRequire(import.meta.url)('ajv/dist/standalone') as (ajv: InstanceType<typeof Ajv>, validate: ValidateFunction) => string;
  const { DECLARATION_KINDS, newDeclarationAjv, precompiledValidator, readSchema } = await import('../src/config/schemas.ts');
  const ajv = newDeclarationAjv(Ajv, { code: { source: true } });
  for (const kind of DECLARATION_KINDS) {
    const file = path.join(outDir, 'config', precompiledValidator(kind));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, standaloneCode(ajv, ajv.compile(readSchema(kind))));
  }
}

function buildDeclarations(root: string, outDir: string): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', outDir], { cwd: root, stdio: 'inherit' });
}

// Without tsc's declarations, a checkout types kiln-ml from its sources (as it did before there was a build).
function forwardDeclarations(srcDir: string, outDir: string): void {
  for (const { module } of ENTRY_POINTS) {
    const dts = path.join(outDir, `${module}.d.ts`);
    const target = path.relative(path.dirname(dts), path.join(srcDir, `${module}.ts`)).split(path.sep).join('/');
    fs.writeFileSync(dts, `// Development build: the types are kiln's sources (npm pack builds real declarations).\nexport * from '${target}';\n`);
  }
}

/** Builds lib/ unless the last build was of the same sources; replaces it whole, so a reader never sees half of one. */
export async function buildKiln(options: BuildOptions = {}): Promise<BuildResult> {
  const start = performance.now();
  const root = options.root ?? repoRoot;
  const srcDir = path.join(root, 'src');
  const outDir = options.outDir ?? path.join(root, 'lib');
  const declarations = options.declarations ?? false;
  const files = sourceFiles(srcDir);
  const stamp = stampOf(root, files);
  const last = readStamp(outDir);
  // tsc's declarations do for a development build too: `npm pack` runs prepare after prepack, and must not replace them.
  if (last?.stamp === stamp && (last.declarations || !declarations)) return { built: false, ms: performance.now() - start, outDir };
  const next = `${outDir}.next-${process.pid}`;
  fs.rmSync(next, { recursive: true, force: true });
  try {
    await buildJavaScript(srcDir, next, files);
    await buildValidators(next);
    if (declarations) buildDeclarations(root, next);
    else forwardDeclarations(srcDir, next);
    fs.writeFileSync(path.join(next, STAMP), JSON.stringify({ stamp, declarations }) + '\n');
    const old = `${outDir}.old-${process.pid}`;
    if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
    fs.renameSync(next, outDir);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(next, { recursive: true, force: true });
  }
  return { built: true, ms: performance.now() - start, outDir };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const out = args.includes('--out-dir') ? path.resolve(args[args.indexOf('--out-dir') + 1]) : undefined;
  const r = await buildKiln({ declarations: args.includes('--declarations'), outDir: out });
  process.stderr.write(r.built ? `built ${path.relative(process.cwd(), r.outDir) || '.'} in ${Math.round(r.ms)} ms\n` : `${path.relative(process.cwd(), r.outDir)} is up to date\n`);
}
