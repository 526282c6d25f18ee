import { fork, type ChildProcess } from "node:child_process";
import type { PgTestDatabase, PgTestEngine } from "./engines.js";

/** A child process (a test/children/*.ts script) driven over IPC: `call` sends a command and resolves with its reply. */
export class Child {
  private readonly process: ChildProcess;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  readonly ready: Promise<void>;

  constructor(script: string) {
    // A TypeScript script runs under tsx; one compiled against the built package (../built-child.ts) on plain node.
    const execArgv = script.endsWith(".ts") ? ["--import", "tsx"] : ["--enable-source-maps"];
    this.process = fork(script, [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.ready = new Promise((resolve, reject) => {
      this.process.on("message", (m: { ready?: true; id?: number; result?: unknown; error?: { message: string } }) => {
        if (m.ready) return resolve();
        const w = this.waiting.get(m.id!)!;
        this.waiting.delete(m.id!);
        if (m.error) w.reject(new Error(m.error.message));
        else w.resolve(m.result);
      });
      this.process.on("exit", (code) => {
        const error = new Error(`child exited with ${code}`);
        reject(error);
        for (const w of this.waiting.values()) w.reject(error);
      });
    });
  }

  call<T = any>(command: object): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.process.send({ ...command, id });
    });
  }

  async close(): Promise<void> {
    await this.call({ op: "close" }).catch(() => undefined);
    this.process.kill();
  }
}


/** Two child processes of one script, both opened on the same Context of one database. */
export interface TwoChildren {
  readonly database: PgTestDatabase;
  readonly a: Child;
  readonly b: Child;
  /** Closes both children, then drops the database. */
  close(): Promise<void>;
}

/**
 * A fresh database on `engine` and two children of `script` opened on it at once (`{ op: "open", url, context,
 * now }`): the migrations and the Context are created by one, waited for by the other.
 */
export async function twoChildrenOnOneDatabase(engine: PgTestEngine, script: string, context: string, now: number): Promise<TwoChildren> {
  const database = await engine.open();
  const a = new Child(script);
  const b = new Child(script);
  const close = async () => {
    await Promise.all([a.close(), b.close()]);
    await database.close();
  };
  try {
    await Promise.all([a.ready, b.ready]);
    await Promise.all([a.call({ op: "open", url: database.url, context, now }), b.call({ op: "open", url: database.url, context, now })]);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { database, a, b, close };
}
