import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../src/runtime/datasets/index.ts';
import { codesOf, entry, tempProject, type TestProject } from './helpers.ts';

let p: TestProject;
beforeAll(async () => {
  await tf.setBackend('cpu');
});
beforeEach(() => {
  p = tempProject();
});
afterEach(() => p.cleanup());

function smallModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu' }));
  m.add(tf.layers.dropout({ rate: 0.1 }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  return m;
}

const modelDs = (extra = {}) => createDataset(entry('classifier', 'tfjs_model', { path: 'data/models/classifier', ...extra }), p.env) as Dataset<tf.LayersModel>;

describe('tfjs_model', () => {
  it('round trips a LayersModel: same topology, same weights, same predictions', async () => {
    const model = smallModel();
    const x = tf.randomUniform([5, 8], 0, 1, 'float32', 7);
    await model.fit(x, tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0], 'int32'), 3), { epochs: 2, verbose: 0 });
    const ds = modelDs();
    expect(await ds.exists()).toBe(false);
    await ds.save(model);
    const dir = path.join(p.root, 'data/models/classifier');
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    expect(await ds.files()).toEqual([path.join(dir, 'model.json'), path.join(dir, 'weights.bin')]);
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    // Weights for inference only: the optimizer state is not saved (model.save's default).
    expect(json.trainingConfig).toBeUndefined();

    const loaded = await ds.load();
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dropout', 'Dense']);
    const want = (model.predict(x) as tf.Tensor).arraySync();
    const got = (loaded.predict(x) as tf.Tensor).arraySync();
    expect(got).toEqual(want);
    // Saving the same weights again gives the same bytes (content hashes stay stable).
    const before = readFileSync(path.join(dir, 'model.json'));
    await ds.save(loaded);
    expect(readFileSync(path.join(dir, 'model.json')).equals(before)).toBe(true);
  });

  it('keeps versions like any file dataset', async () => {
    const m1 = smallModel();
    await createDataset(entry('classifier', 'tfjs_model', { path: 'm', versioned: true }), { ...p.env, saveVersion: 'v1' }).save(m1);
    const m2 = smallModel();
    await createDataset(entry('classifier', 'tfjs_model', { path: 'm', versioned: true }), { ...p.env, saveVersion: 'v2' }).save(m2);
    const x = tf.ones([1, 8]);
    const pinned = (await createDataset(entry('classifier', 'tfjs_model', { path: 'm', versioned: true }), { ...p.env, loadVersion: 'v1' }).load()) as tf.LayersModel;
    expect((pinned.predict(x) as tf.Tensor).arraySync()).toEqual((m1.predict(x) as tf.Tensor).arraySync());
    const latest = (await createDataset(entry('classifier', 'tfjs_model', { path: 'm', versioned: true }), p.env).load()) as tf.LayersModel;
    expect((latest.predict(x) as tf.Tensor).arraySync()).toEqual((m2.predict(x) as tf.Tensor).arraySync());
  });

  it('reports a broken model folder (KILN3105) and refuses to save what is not a model (KILN3108)', async () => {
    const ds = modelDs();
    await ds.save(smallModel());
    const dir = path.join(p.root, 'data/models/classifier');
    rmSync(path.join(dir, 'weights.bin'));
    let r = await codesOf(() => ds.load());
    expect(r.codes).toEqual(['KILN3105']);
    expect(r.messages[0]).toBe("data/models/classifier/model.json: dataset 'classifier' cannot be read as tfjs_model: weight file 'weights.bin' is missing");
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../../../secret.bin'];
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    r = await codesOf(() => ds.load());
    expect(r.messages[0]).toContain("weight file '../../../secret.bin' lies outside the model folder");
    rmSync(path.join(dir, 'model.json'));
    expect((await codesOf(() => ds.load())).messages[0]).toContain('the folder has no model.json');
    r = await codesOf(() => ds.save({ predict: 1 } as unknown as tf.LayersModel));
    expect(r.codes).toEqual(['KILN3108']);
    expect(r.messages[0]).toBe("tfjs_model dataset 'classifier' cannot save an object: it expects a TensorFlow.js LayersModel");
  });
});
