// tfjs_model: a TensorFlow.js LayersModel as a folder holding model.json and weights.bin (the layout tfjs-node and
// the converter use), written through tf.io.withSaveHandler and read through tf.io.fromMemory, so that no native
// binding is needed. A save swaps the whole folder atomically.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import type { DatasetIR } from '../../ir/types.ts';
import { replaceDirAtomic } from '../atomic.ts';
import { isInside } from '../paths.ts';
import { FileDataset } from './file.ts';
import { checkOptions } from './options.ts';
import type { DatasetEnv } from './types.ts';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

let tfModule: Promise<typeof TF> | undefined;
/** TensorFlow.js, imported on first use: it takes most of a second, and most runs touch no model dataset. */
function tfjs(): Promise<typeof TF> {
  tfModule ??= import('@tensorflow/tfjs');
  return tfModule;
}

function isLayersModel(v: unknown): v is TF.LayersModel {
  return typeof v === 'object' && v !== null && typeof (v as TF.LayersModel).save === 'function' && typeof (v as TF.LayersModel).predict === 'function';
}

export class TfjsModelDataset extends FileDataset<TF.LayersModel> {
  constructor(entry: DatasetIR, env: DatasetEnv) {
    checkOptions(entry, {});
    super(entry, env, true);
  }

  protected async write(folder: string, model: TF.LayersModel): Promise<void> {
    if (!isLayersModel(model)) throw this.wrongValue(model, 'a TensorFlow.js LayersModel');
    const tf = await tfjs();
    let artifacts: TF.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const a = artifacts!;
    if (a.modelTopology === undefined || a.modelTopology instanceof ArrayBuffer) throw this.wrongValue(model, 'a LayersModel with a JSON topology');
    const weights = a.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(a.weightData);
    // No date or other varying field: the same weights give the same bytes, and so the same content hash.
    const json: TF.io.ModelJSON = {
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy ?? null,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs ?? [] }],
    };
    if (a.trainingConfig) json.trainingConfig = a.trainingConfig;
    if (a.userDefinedMetadata) json.userDefinedMetadata = a.userDefinedMetadata;
    if (a.signature) json.signature = a.signature;
    if (a.modelInitializer) json.modelInitializer = a.modelInitializer;
    await replaceDirAtomic(folder, async (tmp) => {
      await writeFile(path.join(tmp, WEIGHTS_FILE), new Uint8Array(weights));
      await writeFile(path.join(tmp, MODEL_FILE), JSON.stringify(json));
    });
  }

  protected async read(folder: string): Promise<TF.LayersModel> {
    const modelFile = path.join(folder, MODEL_FILE);
    const where = this.where(modelFile);
    let text: string;
    try {
      text = await readFile(modelFile, 'utf8');
    } catch {
      throw this.unreadable(this.where(folder), `the folder has no ${MODEL_FILE}`, `Save the model with this dataset, or put a TensorFlow.js layers model (${MODEL_FILE} and its weight files) in the folder.`);
    }
    let json: TF.io.ModelJSON;
    try {
      json = JSON.parse(text) as TF.io.ModelJSON;
    } catch (e) {
      throw this.unreadable(where, (e as Error).message);
    }
    if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || json.modelTopology === null) {
      throw this.unreadable(where, 'it has no modelTopology object (is it a graph model? only layers models load here)');
    }
    const manifest = json.weightsManifest ?? [];
    if (!Array.isArray(manifest) || !manifest.every((g) => g && Array.isArray(g.paths) && Array.isArray(g.weights))) {
      throw this.unreadable(where, 'weightsManifest is not a list of { paths, weights } groups');
    }
    const parts: Buffer[] = [];
    for (const group of manifest) {
      for (const p of group.paths) {
        const file = path.resolve(folder, String(p));
        if (!isInside(folder, file)) throw this.unreadable(where, `weight file '${p}' lies outside the model folder`);
        try {
          parts.push(await readFile(file));
        } catch {
          throw this.unreadable(where, `weight file '${p}' is missing`);
        }
      }
    }
    const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    const weightData =
      all.byteOffset === 0 && all.byteLength === all.buffer.byteLength ? (all.buffer as ArrayBuffer) : (all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer);
    const tf = await tfjs();
    const artifacts: TF.io.ModelArtifacts = {
      modelTopology: json.modelTopology,
      weightSpecs: manifest.flatMap((g) => g.weights),
      weightData,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    };
    if (json.trainingConfig) artifacts.trainingConfig = json.trainingConfig;
    if (json.userDefinedMetadata) artifacts.userDefinedMetadata = json.userDefinedMetadata;
    if (json.signature) artifacts.signature = json.signature;
    if (json.modelInitializer) artifacts.modelInitializer = json.modelInitializer;
    try {
      return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    } catch (e) {
      throw this.unreadable(where, (e as Error).message);
    }
  }
}

export function createTfjsModelDataset(entry: DatasetIR, env: DatasetEnv): TfjsModelDataset {
  return new TfjsModelDataset(entry, env);
}
