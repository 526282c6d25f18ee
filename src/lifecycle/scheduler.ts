import { AsyncLocalStorage } from "node:async_hooks";
import PQueue from "p-queue";
import type { Logger } from "../config/schemas.js";

/** Priorities on the one scheduler queue: a retry of a pending turn before reconciliation, before sweeps. */
export const PRIORITY = { sync: 10, retry: 5, reflection: 3, sweep: 1, index: 0 } as const;

/**
 * The background scheduler of one instance: one job at a time (concurrency 1), by priority, plus the timers of
 * the scheduled sweeps.
 *
 * Deadlock freedom is structural, not a convention each caller must keep:
 * - `add` called from inside a running job runs the work inline, in the slot that job already holds; with one
 *   slot, queueing it and awaiting it would wait forever (the expiry timer's job awaited the expiry sweep's
 *   own job this way, and every default instance stalled after an hour).
 * - `defer` (fire and forget) always queues: it is never awaited, so it cannot wait on its caller.
 * - A timer never holds a slot: it calls its task directly, and the task queues its own steps. A sweep is a
 *   series of short jobs (`steps`), so other background work takes turns with it, and `stop()` ends it at the
 *   next step.
 * - A scheduled task whose previous run has not finished is skipped, not piled up.
 */
export class Scheduler {
  private readonly queue = new PQueue({ concurrency: 1 });
  private readonly inJob = new AsyncLocalStorage<true>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Multi-job work in flight (timer tasks, sweeps): `idle()` waits for these as well as for the queue. */
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly running = new Set<string>();
  private readonly controller = new AbortController();

  constructor(private readonly logger: Logger) {}

  /** Aborted by `stop()`: long background work (sweeps, retries, model calls) ends at its next check. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** Queues `fn` and resolves with its result; inside a job, runs `fn` at once (see the class comment). */
  add<T>(fn: () => Promise<T> | T, { priority = PRIORITY.sync }: { priority?: number } = {}): Promise<T> {
    if (this.inJob.getStore()) return Promise.resolve().then(fn);
    return this.queue.add(async () => await this.inJob.run(true, fn), { priority });
  }

  /** Queues `fn` without waiting for it; a failure is logged as `what` failed. */
  defer(fn: () => Promise<unknown> | unknown, priority: number, what: string): void {
    void this.queue
      .add(() => this.inJob.run(true, fn), { priority })
      .catch((error: unknown) => this.logger.warn(`${what} failed`, { error: error instanceof Error ? error.message : String(error) }));
  }

  /**
   * Runs `step` as one job after another until it returns true (done) or the scheduler stops; each step is its
   * own job, so queued work of any priority runs between steps, and the event loop turns between them (a
   * setImmediate), so that I/O — a server's next request, a recall's timer — is served while a long sweep runs:
   * promises alone would chain every step in one microtask run. Resolves with the number of steps run.
   */
  async steps(step: () => Promise<boolean> | boolean, priority: number): Promise<number> {
    return this.track(
      (async () => {
        let n = 0;
        // Called from inside a job: the loop runs inline in that job's slot (add runs inline there).
        while (!this.stopped) {
          n++;
          if (await this.add(step, { priority })) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
        return n;
      })(),
    );
  }

  /** Counts `work` as background work in flight until it settles (see `idle`). */
  track<T>(work: Promise<T>): Promise<T> {
    this.tasks.add(work);
    const forget = () => this.tasks.delete(work);
    work.then(forget, forget);
    return work;
  }

  /**
   * Calls `task` every `ms` (unref'd: a timer never keeps the process alive). A run still in flight when the
   * timer fires again is not started twice. `false` schedules nothing.
   */
  every(ms: number | false, name: string, task: () => Promise<unknown>): void {
    if (ms === false || this.stopped) return;
    const timer = setInterval(() => {
      if (this.running.has(name) || this.stopped) return;
      this.running.add(name);
      // Outside any job's context, whatever context created the timer.
      const run = this.inJob.exit(() => this.track(Promise.resolve().then(task)));
      run
        .catch((error: unknown) => {
          if (!this.stopped) this.logger.warn(`Scheduled ${name} failed`, { error: error instanceof Error ? error.message : String(error) });
        })
        .finally(() => this.running.delete(name));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Resolves when the queue is empty and no multi-job work is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      await this.queue.onIdle();
      if (this.tasks.size === 0) return;
      await Promise.allSettled([...this.tasks]);
    }
  }

  /**
   * Stops the timers, ends sweeps and retries at their next step (their progress is durable: a partial decay
   * or expiry is finished by the next sweep, a pending turn stays pending), aborts `signal` for the model
   * calls of retries, and waits for what is queued to finish.
   */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.controller.abort();
    await this.idle();
  }
}
