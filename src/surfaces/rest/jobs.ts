import { randomUUID } from "node:crypto";
import { toProblem, type Problem } from "./problem.js";

/** A long operation (batch ingest, knowledge reindex) as a resource to poll: `GET /api/v1/{ctx}/jobs/{id}`. */
export interface Job {
  id: string;
  kind: "ingest" | "reindex";
  context: string;
  status: "running" | "succeeded" | "failed";
  /** Items done of the total; `failed` counts items that failed (a batch goes on past them). */
  progress: { done: number; total: number; failed: number };
  /** What the operation returned, once finished. */
  result: unknown;
  /** Why it failed, as a problem document. */
  error: Problem | null;
  created_at: string;
  /** When its status last changed (progress is read live: a reindex's from its stored state). */
  updated_at: string;
}

interface Entry {
  job: Job;
  owner: string | null;
  /** Brings `job` up to date before it is shown (a reindex reads its stored state). */
  refresh?: () => Promise<void>;
}

/** Finished jobs kept for polling, oldest dropped first. */
const KEEP_FINISHED = 1000;

/** The jobs of one server. Each is visible only to the principal that started it (the application for no-auth). */
export class JobRegistry {
  readonly #jobs = new Map<string, Entry>();
  readonly #running = new Set<Promise<unknown>>();

  constructor(private readonly clock: () => number) {}

  /**
   * Starts `run` now, in the background; it reports through the job it is handed. A throw fails the job with
   * the thrown error's problem document.
   */
  start(
    kind: Job["kind"],
    context: string,
    owner: string | null,
    total: number,
    run: (job: Job) => Promise<unknown>,
    refresh?: (job: Job) => Promise<void>,
  ): Job {
    const now = new Date(this.clock()).toISOString();
    const job: Job = { id: `job_${randomUUID()}`, kind, context, status: "running", progress: { done: 0, total, failed: 0 }, result: null, error: null, created_at: now, updated_at: now };
    const entry: Entry = { job, owner, ...(refresh ? { refresh: () => refresh(job) } : {}) };
    this.#jobs.set(job.id, entry);
    const touch = () => (job.updated_at = new Date(this.clock()).toISOString());
    const running = run(job).then(
      (result) => {
        job.result = result ?? null;
        if (job.status === "running") job.status = "succeeded";
        touch();
      },
      (error: unknown) => {
        job.status = "failed";
        job.error = toProblem(error);
        touch();
      },
    );
    this.#running.add(running);
    void running.finally(() => {
      this.#running.delete(running);
      this.prune();
    });
    return job;
  }

  /** The job, brought up to date, if `owner` started it. */
  async get(id: string, context: string, owner: string | null): Promise<Job | undefined> {
    const entry = this.#jobs.get(id);
    if (!entry || entry.owner !== owner || entry.job.context !== context) return undefined;
    if (entry.job.status === "running" && entry.refresh) await entry.refresh();
    return { ...entry.job, progress: { ...entry.job.progress } };
  }

  /** Resolves when every running job has finished. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  private prune(): void {
    const finished = [...this.#jobs.values()].filter((e) => e.job.status !== "running");
    for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.#jobs.delete(e.job.id);
  }
}
