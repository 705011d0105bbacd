/**
 * A FIFO mutex for workflow code (promises only, so replay-safe). Everything that changes the conversation's
 * state or sends on its behalf runs under it, so operator updates and the main loop never interleave mid-step.
 */
export class Lock {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
