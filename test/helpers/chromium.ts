// Debian's Chromium driven by playwright-core, for the kiln ui end-to-end tests and bench/ui.ts: headless, no
// sandbox (containers), no network of its own, a fresh profile each launch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where tests leave what a person may want to look at (screenshots): test-results/<name>, or $KILN_TEST_OUTPUT/<name>. */
export function testOutputDir(name: string): string {
  const root = process.env.KILN_TEST_OUTPUT ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'test-results');
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
