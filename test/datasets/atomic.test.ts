import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dirForRead, isAtomicTemp, removeStaleTemps, replaceDirAtomic, writeFileAtomic } from '../../src/runtime/atomic.ts';
import { tempProject, type TestProject } from './helpers.ts';

let p: TestProject;
beforeEach(() => {
  p = tempProject();
});
afterEach(() => p.cleanup());

describe('writeFileAtomic', () => {
  it('writes strings, bytes and streams of chunks, creating folders', async () => {
    const f = path.join(p.root, 'a/b/c.txt');
    await writeFileAtomic(f, 'hello');
    expect(readFileSync(f, 'utf8')).toBe('hello');
    await writeFileAtomic(f, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(f)]).toEqual([1, 2, 3]);
    async function* gen() {
      for (let i = 0; i < 5000; i++) yield `${i}\n`;
    }
    await writeFileAtomic(f, gen());
    const lines = readFileSync(f, 'utf8').trim().split('\n');
    expect(lines.length).toBe(5000);
    expect(lines[4999]).toBe('4999');
    expect(readdirSync(path.dirname(f))).toEqual(['c.txt']);
  });

  it('leaves the old file and no temporary when the stream fails midway', async () => {
    const f = path.join(p.root, 'x.json');
    await writeFileAtomic(f, 'old');
    async function* failing() {
      yield 'x'.repeat(3 << 20);
      throw new Error('producer failed');
    }
    await expect(writeFileAtomic(f, failing())).rejects.toThrow('producer failed');
    expect(readFileSync(f, 'utf8')).toBe('old');
    expect(readdirSync(p.root)).toEqual(['x.json']);
  });

  it('sweeps temporaries of dead writers, not of live ones', async () => {
    const f = path.join(p.root, 'x.json');
    writeFileSync(path.join(p.root, '.x.json.kiln-999999999-0011aabb.tmp'), 'partial');
    writeFileSync(path.join(p.root, `.x.json.kiln-${process.pid}-0011aabb.tmp`), 'in progress');
    writeFileSync(path.join(p.root, '.other.json.kiln-999999999-0011aabb.tmp'), 'another target');
    await removeStaleTemps(f);
    expect(readdirSync(p.root).sort()).toEqual([`.other.json.kiln-999999999-0011aabb.tmp`, `.x.json.kiln-${process.pid}-0011aabb.tmp`]);
    expect(isAtomicTemp('.x.json.kiln-1-0011aabb.tmp')).toBe(true);
    expect(isAtomicTemp('x.json')).toBe(false);
  });
});

describe('replaceDirAtomic', () => {
  it('replaces the whole folder; a failing fill leaves the old one', async () => {
    const d = path.join(p.root, 'models/m');
    await replaceDirAtomic(d, async (tmp) => {
      writeFileSync(path.join(tmp, 'a'), '1');
      writeFileSync(path.join(tmp, 'b'), '1');
    });
    await replaceDirAtomic(d, async (tmp) => writeFileSync(path.join(tmp, 'a'), '2'));
    expect(readdirSync(d)).toEqual(['a']);
    expect(readFileSync(path.join(d, 'a'), 'utf8')).toBe('2');
    await expect(
      replaceDirAtomic(d, async (tmp) => {
        writeFileSync(path.join(tmp, 'a'), '3');
        throw new Error('fill failed');
      }),
    ).rejects.toThrow('fill failed');
    expect(readFileSync(path.join(d, 'a'), 'utf8')).toBe('2');
    expect(readdirSync(path.dirname(d))).toEqual(['m']);
  });

  it('serves and then restores the old folder when a swap was cut off between its renames', async () => {
    const d = path.join(p.root, 'm');
    await replaceDirAtomic(d, async (tmp) => writeFileSync(path.join(tmp, 'v'), 'old'));
    // What a writer killed after its first rename leaves: the old folder under its .old name, and its filled temp.
    const old = path.join(p.root, '.m.kiln-999999999-0011aabb.old');
    renameSync(d, old);
    mkdirSync(path.join(p.root, '.m.kiln-999999999-2233ccdd.tmp'));
    expect(await dirForRead(d)).toBe(old);
    expect(readFileSync(path.join((await dirForRead(d))!, 'v'), 'utf8')).toBe('old');
    await replaceDirAtomic(d, async (tmp) => {
      // The old state is back in place before the new one is swapped in.
      expect(readFileSync(path.join(d, 'v'), 'utf8')).toBe('old');
      writeFileSync(path.join(tmp, 'v'), 'new');
    });
    expect(readFileSync(path.join(d, 'v'), 'utf8')).toBe('new');
    expect(readdirSync(p.root)).toEqual(['m']);
    expect(existsSync(old)).toBe(false);
  });

  it('dirForRead is null when there is nothing', async () => {
    expect(await dirForRead(path.join(p.root, 'none'))).toBeNull();
  });
});
