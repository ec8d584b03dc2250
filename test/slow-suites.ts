// The long end-to-end suites: whole CLI runs with training, kills, races, real servers and the full flagship. They
// run in `npm run test:e2e` (CI runs both), so that `npm test` stays a fast loop for a developer.
export const slowSuites = [
  // Includes test/e2e/team.test.ts: issue 15's loop on three clones, PostgreSQL and a registry (about 3 minutes loaded).
  'test/e2e/**/*.test.ts',
  'test/flagship/**/*.test.ts',
  'test/gitops/story.test.ts',
  'test/gitops/publish-race.test.ts',
  'test/gitops/oci-publish.test.ts',
  // Trains the scorer on three branches and publishes to a real registry: about 40 s on a shared machine.
  'test/gitops/publish-preview.test.ts',
  // Runs the scaffolded workflow's jobs (four trainings, type-checks, a real registry): about 2 minutes.
  'test/gitops/workflow-simulation.test.ts',
  // Several kiln processes per test recording one shared run (kiln run --run-id).
  'test/gitops/shared-run.test.ts',
  // Emitted Argo workflows played by the test harness over PostgreSQL and a registry: a process per task attempt, each
  // compiling and type-checking in its own empty .kiln (about 6 minutes on a shared machine).
  'test/gitops/argo-play.test.ts',
  'test/tracking/remote-objects.test.ts',
  'test/ml/spam-quality.test.ts',
  'test/artifact/parity-escapes.test.ts',
  // Heartbeat leases expiring on both run stores: seconds of waiting by design.
  'test/tracking/liveness.test.ts',
  'test/docs/tutorial.test.ts',
  'test/docs/ml-examples.test.ts',
  // tsc emits kiln's declarations, then type-checks a consumer: tens of seconds.
  'test/cli/package-types.test.ts',
];
