// generated from schema/kiln.schema.json by scripts/gen-types.ts; do not edit; run `npm run gen:types`

/**
 * A function or object exported by a module: '<relative file>#<export name>'.
 */
export type FunctionRef = string;

/**
 * kiln.yaml: the project file at the root of a kiln project.
 */
export interface KilnProject {
  /**
   * Name of the project, used in run records and scaffolding.
   */
  name: string;
  /**
   * Folder holding the declarations: catalog.yaml, parameters.yaml and the pipeline files (pipeline.yaml or *.pipeline.yaml), relative to the project root.
   */
  pipelines?: string;
  /**
   * Folder where `kiln compile` writes the generated TypeScript, relative to the project root.
   */
  generated?: string;
  /**
   * Folder of the embedded run store (SQLite database and object store), relative to the project root; or a PostgreSQL URL (postgres://user:${PASSWORD_VARIABLE}@host:5432/db, ${NAME} read from the environment) for runs shared by a team, the objects then staying in .kiln.
   */
  store?: string;
  /**
   * Git settings.
   */
  git?: {
    /**
     * The main branch: `kiln publish` only publishes from it and `kiln plan` compares against it.
     */
    main?: string;
  };
  /**
   * TensorFlow.js backend for training and inference; `auto` picks the fastest that loads (tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu).
   */
  backend?: 'auto' | 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'wasm' | 'cpu';
  /**
   * Where datasets may read and write.
   */
  paths?: {
    /**
     * Folders outside the project root that dataset paths may use (absolute, or relative to the project root). Paths outside the root are refused unless listed here.
     */
    allow?: string[];
  };
  /**
   * Hook objects run around pipelines, nodes and dataset loads and saves, each as '<file>#<export>' relative to the project root.
   */
  hooks?: FunctionRef[];
  /**
   * Where `kiln publish` publishes artifacts: a folder, or an OCI registry.
   */
  publish?: {
    /**
     * Folder that receives published artifacts (<target>/<model>/v<version>/), relative to the project root; or an OCI repository, oci://<registry>/<namespace>[/<model>], whose tags v1, v2, … and aliases are then the model registry.
     */
    target?: string;
  };
}
