import { Spectron } from "../../spectron.js";
import { HttpProblem } from "./problem.js";

/**
 * What a server serves: one Spectron (under its own `context` name), several by Context name, or a factory
 * called once per Context name a request names (returning undefined for a Context it does not serve).
 */
export type Memories =
  | Spectron
  | Readonly<Record<string, Spectron>>
  | ReadonlyMap<string, Spectron>
  | ((context: string) => Spectron | undefined | Promise<Spectron | undefined>);

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** One Spectron instance per Context: `{ctx}` in a path names the instance. */
export class ContextRegistry {
  readonly #fixed = new Map<string, Spectron>();
  readonly #factory: ((context: string) => Spectron | undefined | Promise<Spectron | undefined>) | undefined;
  readonly #made = new Map<string, Promise<Spectron | undefined>>();

  constructor(memories: Memories) {
    if (memories instanceof Spectron) this.#fixed.set(memories.context, memories);
    else if (typeof memories === "function") this.#factory = memories;
    else if (memories instanceof Map) for (const [name, m] of memories) this.add(name, m);
    else if (typeof memories === "object" && memories !== null) for (const [name, m] of Object.entries(memories)) this.add(name, m as Spectron);
    else throw new TypeError("createServer(memories): expected a Spectron, a map of them by Context name, or a factory");
  }

  private add(name: string, memory: Spectron): void {
    if (!(memory instanceof Spectron)) throw new TypeError(`createServer(memories): \`${name}\` is not a Spectron instance`);
    if (memory.context !== name) throw new TypeError(`createServer(memories): \`${name}\` maps to the Spectron of Context \`${memory.context}\``);
    this.#fixed.set(name, memory);
  }

  /** The instance of a Context, or a 404 problem (also for a name that cannot be a Context). */
  async get(name: string): Promise<Spectron> {
    const fixed = this.#fixed.get(name);
    if (fixed) return fixed;
    let made: Promise<Spectron | undefined> | undefined;
    if (this.#factory && CONTEXT_NAME.test(name)) {
      made = this.#made.get(name);
      if (!made) {
        const factory = this.#factory;
        made = Promise.resolve().then(() => factory(name));
        this.#made.set(name, made);
        // A factory that failed is asked again next time.
        made.catch(() => this.#made.delete(name));
      }
    }
    const memory = made ? await made : undefined;
    if (!memory) throw unknownContext(name);
    return memory;
  }

  /** Every instance served so far: given ones and those the factory made. */
  async all(): Promise<Spectron[]> {
    const made = await Promise.all([...this.#made.values()].map((p) => p.catch(() => undefined)));
    return [...new Set([...this.#fixed.values(), ...made.filter((m): m is Spectron => m instanceof Spectron)])];
  }
}

export function unknownContext(name: string): HttpProblem {
  return new HttpProblem("not_found", `No Context \`${name.slice(0, 128)}\` on this server (or the token does not reach it).`);
}
