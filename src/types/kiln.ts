// generated from schema/kiln.schema.json by scripts/gen-types.ts; do not edit; run `npm run gen:types`

/**
 * A function or object exported by a module: '<relative file>#<export name>'.
 */
export type FunctionRef = string;
export type KubernetesName = string;
export type LabelValue = string;
export type LabelKey = string;

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
   * How `kiln emit argo` runs the pipeline's pods on Kubernetes. Secrets are named here, never written: the manifest only refers to them.
   */
  argo?: {
    /**
     * Service account of the workflow's pods.
     */
    serviceAccountName?: string;
    /**
     * Name of the Kubernetes Secret whose keys store, objects, registry-username and registry-password become KILN_STORE, KILN_OBJECTS, KILN_REGISTRY_USERNAME and KILN_REGISTRY_PASSWORD in every pod (through secretKeyRef; each key is optional).
     */
    secret?: string;
    /**
     * Secrets Kubernetes pulls the image with.
     */
    imagePullSecrets?: KubernetesName[];
    /**
     * Labels a Kubernetes node must have to run the workflow's pods.
     */
    nodeSelector?: {
      [k: string]: LabelValue;
    };
    /**
     * Taints the workflow's pods tolerate (those of a GPU node pool, say).
     */
    tolerations?: {
      key?: LabelKey;
      operator?: 'Exists' | 'Equal';
      value?: LabelValue;
      effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
      tolerationSeconds?: number;
    }[];
    /**
     * At most this many tasks of the workflow run at once.
     */
    parallelism?: number;
  };
  /**
   * An OCI repository, oci://<registry>/<namespace>/<repo>, that shares node outputs between machines: each run pushes the objects its nodes wrote as blobs (one manifest per run, tagged run-<run id>), and a run that skips a node pulls the outputs it needs from there, verified, into the local store. KILN_OBJECTS in the environment overrides it. Absent: outputs stay in the local store only.
   */
  objects?: string;
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
