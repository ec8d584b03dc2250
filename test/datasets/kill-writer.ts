// Child process of atomic-kill.test.ts: saves big JSON files (or folders) over and over until it is killed.
// Each save holds `seq` at both ends and a known number of rows, so that a reader can tell a whole file from a cut
// one. It prints `writing <seq> <chunk>` before handing each 1 MB chunk to the writer, so the test can kill it
// while the bytes are going to disk.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../../src/runtime/atomic.ts';

const [mode, target, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const row = 'x'.repeat(1000);

/** The file's chunks; chunk numbers follow on from `counter.n` (a folder's second file continues its first's). */
function* document(seq: number, counter = { n: 0 }): Generator<string> {
  let chunk = `{"seq":${seq},"rows":[`;
  for (let i = 0; i < rows; i++) {
    chunk += (i ? ',' : '') + `"${row}"`;
    if (chunk.length > 1 << 20) {
      process.stdout.write(`writing ${seq} ${++counter.n}\n`);
      yield chunk;
      chunk = '';
    }
  }
  process.stdout.write(`writing ${seq} ${++counter.n}\n`);
  yield chunk + `],"end":${seq}}`;
}

async function writePlain(file: string, seq: number, counter: { n: number }): Promise<void> {
  const h = await open(file, 'w');
  try {
    for (const chunk of document(seq, counter)) await h.write(chunk);
  } finally {
    await h.close();
  }
}

for (let seq = 1; ; seq++) {
  if (mode === 'file') {
    await writeFileAtomic(target, document(seq));
  } else {
    const counter = { n: 0 };
    await replaceDirAtomic(target, async (tmp) => {
      await writePlain(path.join(tmp, 'a.json'), seq, counter);
      await writePlain(path.join(tmp, 'b.json'), seq, counter);
    });
  }
  process.stdout.write(`saved ${seq}\n`);
}
