// `kiln ui`: the web app over the project and its run store (pipeline graph, runs, compare, models, plan), and
// `kiln ui build --out DIR`, the same views as a static site with the data baked in.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { diag, KilnError } from '../diagnostics/index.ts';
import type { CommandModule } from './main.ts';
import { EXIT_OK, handleFailure, type Io } from './io.ts';

interface UiFlags {
  port: string;
  host: string;
  open?: boolean;
  project: string;
}

function port(text: string): number {
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new KilnError(diag('KILN8001', { flag: 'port', actual: text, expected: 'a whole number from 0 to 65535 (0 takes any free port)', example: '--port 4141' }));
  return n;
}

/** Best effort: a machine without a desktop just has the URL printed. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // Nothing to open it with: the URL is printed.
  }
}

async function serve(io: Io, flags: UiFlags): Promise<number> {
  const root = path.resolve(io.cwd, flags.project);
  const p = port(flags.port);
  const [{ startUiServer }, { loadAssets }, { projectStores }] = await Promise.all([import('../ui/server.ts'), import('../ui/assets.ts'), import('../ui/stores.ts')]);
  const stores = projectStores(root);
  let server;
  try {
    server = await startUiServer({ root, stores: () => stores.stores() }, loadAssets(), { host: flags.host, port: p });
  } catch (e) {
    stores.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES' || err.code === 'ENOTFOUND') {
      throw new KilnError(diag('KILN8002', { host: flags.host, port: p, reason: err.code === 'EADDRINUSE' ? 'the port is in use' : err.message }));
    }
    throw e;
  }
  io.out(`kiln ui on ${server.url} (read-only; Ctrl-C stops it)\n`);
  if (flags.open) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  stores.close();
  return EXIT_OK;
}

export const uiCommand: CommandModule = {
  register(program, io, setExit) {
    const ui = program
      .command('ui')
      .description('browse the pipeline graph, runs, comparisons, models and plans in a local web app (read-only)')
      .option('--port <port>', 'port to listen on (0 takes any free one)', '4141')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--open', 'open the app in the default browser')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .action((flags: UiFlags) => {
        setExit(serve(io, flags).catch((e: unknown) => handleFailure(io, e)));
      });
    ui.command('build')
      .description('write the same views as a static site (data baked in), for a CI artifact or GitHub Pages')
      .requiredOption('--out <dir>', 'folder to write the site to (created; replaced only when it holds an earlier export)')
      .option('--project <dir>', 'project root (the folder with kiln.yaml)', '.')
      .option('--base <ref>', 'revision the plan view compares with (default: as kiln plan)')
      .action((flags: { out: string; project: string; base?: string }) => {
        setExit(
          (async () => {
            try {
              const { exportSite } = await import('../ui/static-export.ts');
              const root = path.resolve(io.cwd, flags.project);
              const r = await exportSite({ root, out: path.resolve(io.cwd, flags.out), ...(flags.base ? { base: flags.base } : {}) });
              io.out(`wrote ${r.files} files to ${r.out} (open index.html)\n`);
              return EXIT_OK;
            } catch (e) {
              return handleFailure(io, e);
            }
          })(),
        );
      });
  },
};
