import { patched, workflowInfo } from '@temporalio/workflow';

/**
 * `patched(id)`, unless the run's starter listed `id` among the patches it was built with (BUILT_IN_PATCHES in
 * src/contract/workflow-types.ts): then the new path, with no marker recorded. Why this replays:
 * - first execution of a listed run (not replaying): nothing is asked, nothing recorded;
 * - its replay by this build: `patched()` is asked while replaying; with no marker in the history it issues no
 *   command (and its answer is ignored), so the commands match what the first execution recorded;
 * - a listed run first executed by an older worker (a rolling deploy), which did record the marker: replayed here,
 *   `patched()` is asked and matches that marker, so the marker does not go unmatched (a non-deprecated marker
 *   with no `patched()` call is a non-determinism error in Core);
 * - an unlisted run (an older starter, or a committed fixture): `patched()` as it always was.
 * An older worker replaying a listed run this build executed fails its workflow task, exactly as it would for a
 * run with a marker it does not know: the task is retried on a current worker.
 */
export function patchedUnlessBuiltIn(id: string, builtIn: readonly string[] | undefined): boolean {
  if (!builtIn?.includes(id)) return patched(id);
  if (workflowInfo().unsafe.isReplaying) patched(id);
  return true;
}
