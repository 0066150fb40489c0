import type { Logger } from '../core/ports.js';

interface Step {
  readonly name: string;
  readonly run: () => Promise<void> | void;
}

/**
 * Undo steps registered while starting, run in reverse order. The same stack serves a failed start (undo
 * what was done so far) and a normal stop, so both release resources in one well-tested order.
 */
export class CleanupStack {
  private readonly steps: Step[] = [];

  constructor(private readonly logger: Logger) {}

  push(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Drops the most recent step (its resource is now owned by a later one). */
  pop(name: string): void {
    const index = this.steps.findLastIndex((step) => step.name === name);
    if (index >= 0) this.steps.splice(index, 1);
  }

  /** Runs every step even when some fail; returns the failures, each already logged. */
  async unwind(): Promise<unknown[]> {
    const failures: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      if (!step) break;
      try {
        await step.run();
      } catch (error) {
        this.logger.error({ err: error, step: step.name }, 'shutdown step failed');
        failures.push(error);
      }
    }
    return failures;
  }
}
