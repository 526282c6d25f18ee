import { fork, type ChildProcess } from "node:child_process";

/** A child process (a test/children/*.ts script) driven over IPC: `call` sends a command and resolves with its reply. */
export class Child {
  private readonly process: ChildProcess;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  readonly ready: Promise<void>;

  constructor(script: string) {
    this.process = fork(script, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
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

