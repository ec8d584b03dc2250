// What both publish paths (a folder target: publish.ts, an oci:// target: oci-publish.ts) share: the step they are
// given, the artifact they verify, and the result they answer with.
import { verifiedArtifact } from '../artifact/verify.ts';
import type { Tracking } from '../tracking/index.ts';
import type { RunRecord } from '../tracking/store.ts';

export interface PublishResult {
  model: string;
  version: number;
  alias: string;
  previous: number | null;
  run: string;
  commit: string;
  branch: string;
  /** Where the artifact was published, relative to the project root when inside it. */
  artifact: string;
  files: number;
  /** The gate checks that passed, in words. */
  gate: string[];
  dryRun: boolean;
  /** True when this artifact was published before (as `version`): nothing was registered or copied. */
  alreadyPublished: boolean;
  /** Whether the alias was pointed at `version` (false: left where it was, `previous`). */
  aliasMoved: boolean;
  /** The run's departures from the committed declarations, accepted with allowOverrides (empty: none). */
  overrides: string[];
}

export interface PublishStep {
  tracking: Tracking;
  /** The project root (local targets name the published folder relative to it). */
  root: string;
  target: string;
  model: string;
  alias: string;
  /** The alias was named by the publisher: move it even to a version published before. */
  aliasAsked: boolean;
  run: RunRecord;
  overrides: string[];
  artifactDir: string;
  head: string;
  branch: string;
  gate: string[];
  dryRun: boolean;
}

/** The run's artifact, verified against the digest the run recorded when its parity passed, so that re-hashed files cannot go out as a new version. */
export function verifiedRunArtifact(s: Pick<PublishStep, 'run' | 'model' | 'artifactDir'>) {
  const recorded = s.run.tags[`digest.${s.model}`];
  return verifiedArtifact(s.artifactDir, recorded ? { digest: recorded } : {});
}

/** The answer for version `v` published at `artifact` (a new version unless `more` says otherwise). */
export function publishResult(s: PublishStep, files: number, v: number, artifact: string, previous: number | null, more: Partial<PublishResult> = {}): PublishResult {
  return {
    model: s.model,
    version: v,
    alias: s.alias,
    previous,
    run: s.run.id,
    commit: s.head,
    branch: s.branch,
    artifact,
    files,
    gate: s.gate,
    dryRun: s.dryRun,
    alreadyPublished: false,
    aliasMoved: !s.dryRun,
    overrides: s.overrides,
    ...more,
  };
}
