// KILN7xxx: see src/diagnostics/catalogue.ts for the ranges.
// GitOps (src/gitops/): plan (two revisions compared), report, publish and its gate, the registry commands, init.
import type { CodeDefinition } from '../types.ts';

export const gitopsCodes = {
  KILN7001: { severity: 'error', message: 'kiln {command} needs a git repository with a commit: {reason}', hint: 'Run it inside the repository of the project (git init, git add, git commit), or pass --project <dir>.' },
  KILN7002: { severity: 'error', message: "unknown git revision '{ref}'.{suggestion}", hint: 'Give a branch, a tag, a remote branch (origin/main) or a commit (a unique prefix is enough), optionally followed by ~N or ^. Branches: {known}.' },
  KILN7003: { severity: 'error', message: "cannot find where HEAD left the main branch '{main}': {reason}", hint: 'kiln compares against the merge base of HEAD with git.main of kiln.yaml. Fetch the main branch (in CI: actions/checkout with fetch-depth: 0), set git.main, or pass --base <ref>.' },
  KILN7004: { severity: 'error', message: 'the declarations at {side} ({commit}) have {count} error(s), so there is nothing to compare', hint: 'They are listed with the file at {side}; fix them on that revision, or compare with another one (--base <ref>).' },
  KILN7005: { severity: 'error', message: 'cannot publish: the working tree has uncommitted changes ({files})', hint: 'Commit or stash them: a published model must come from a commit. The run store, the publish target and ignored files do not count.' },
  KILN7006: { severity: 'error', message: "cannot publish: HEAD is {where}, not the main branch '{main}'", hint: "Merge into '{main}' and publish from there; the main branch is git.main in kiln.yaml." },
  KILN7007: { severity: 'error', message: "cannot publish '{model}': no FINISHED run of pipeline '{pipeline}' at HEAD ({commit}){detail}", hint: 'Run it on this commit with a clean working tree first: kiln run {pipeline}' },
  KILN7008: { severity: 'error', message: "cannot publish '{model}': the artifact of run {run} {problem}", hint: '{fix}' },
  KILN7009: { severity: 'error', message: "cannot publish '{model}': the gate fails: {metric} is {value}, which is not {op} {threshold}", hint: 'The gate is model.gate.metrics in the pipeline declaration; improve the model, or change the gate in a reviewed pull request.' },
  KILN7010: { severity: 'error', message: "cannot publish '{model}': {metric} is {value}, worse than {alias} (v{version}: {other})", hint: 'model.gate.better_than: {alias} requires every gated metric to be at least as good as the version {alias} points at.' },
  KILN7011: { severity: 'error', message: 'cannot publish: kiln.yaml has no publish.target', hint: 'Add `publish: { target: dist/models }` to kiln.yaml; published artifacts are copied to <target>/<model>/v<version>/.' },
  KILN7012: { severity: 'error', message: "no model '{model}' in this project.{suggestion}", hint: 'Models declared in this project (model.name in a pipeline declaration): {available}.' },
  KILN7013: { severity: 'error', message: "cannot publish '{model}' v{version}: {path} already exists", hint: 'Publishing never overwrites an artifact; move that folder aside (or point publish.target elsewhere) and publish again.' },
  KILN7014: { severity: 'error', message: "cannot roll back {model}@{alias}: {reason}", hint: 'Say where it should point: kiln registry rollback {model} --alias {alias} --to <version> (kiln registry show {model} lists the versions).' },
  KILN7015: { severity: 'error', message: "the artifact of {model} v{version} is not at {path} any more", hint: 'Its folder was removed or moved; choose another version, or publish again.' },
  KILN7016: { severity: 'warning', message: "no FINISHED run of pipeline '{pipeline}' at {side} ({commit})", hint: 'Run the pipeline on that commit (kiln run) so that the report can compare; in CI, keep the run store (.kiln) between jobs (the workflow kiln init writes caches it).' },
  KILN7017: { severity: 'error', message: 'kiln init would overwrite {count} existing file(s): {files}', hint: 'kiln init never overwrites anything; run it in an empty folder, or move these files aside.' },
  KILN7018: { severity: 'error', message: "unknown CI provider '{ci}'.{suggestion}", hint: 'Supported: {known}.' },
  KILN7019: { severity: 'error', message: "invalid project name '{name}': {reason}", hint: 'Pass --name <name>: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 100 characters.' },
  KILN7020: { severity: 'error', message: "cannot publish '{model}': run {run} recorded no metric '{metric}', which the gate needs.{suggestion}", hint: "The run's metrics: {available}. Fix the name in model.gate.metrics, or record the metric (a metrics dataset, or logMetrics in a node)." },
  KILN7021: { severity: 'error', message: "cannot publish '{model}': cannot compare with {alias} (v{version}): {reason}", hint: 'Restore that version\'s artifact, or move the alias (kiln registry alias / rollback) to a version whose metrics can be read.' },
  KILN7030: { severity: 'error', message: '{what} is outside the history of this shallow clone ({reason})', hint: 'Fetch more history: `git fetch --deepen=<N>` (N more commits) or `git fetch --unshallow` (all of it); in CI, check out with full history (actions/checkout: fetch-depth: 0).' },
} satisfies Record<string, CodeDefinition>;
