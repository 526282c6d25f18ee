import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ReindexState } from "../store/contexts.js";

/**
 * How long a running reindex stays its owner's without a heartbeat (by the injected clock). The owner renews
 * it after every batch and every REINDEX_LEASE_MS / 4 while a batch is embedding; past it, any instance may
 * take the reindex over (the owner, if it was only stalled, notices at its next batch and stops).
 */
export const REINDEX_LEASE_MS = 60_000;

/** Owner tokens of the reindexes this process is running, one per instance that runs one. */
const running = new Set<string>();

/** A new owner token: host, process id and a random part (several instances may share a process). */
export function newOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

export function holdOwner(owner: string): void {
  running.add(owner);
}

export function releaseOwner(owner: string): void {
  running.delete(owner);
}

/**
 * Whether a `running` reindex still has a live owner. An owner in this process is alive while it runs the
 * reindex; another owner is gone when its heartbeat is older than the lease, and at once when its process, on
 * this host, has exited (a crash, a SIGKILL). A state written before owners were recorded has none.
 */
export function ownerAlive(state: ReindexState, now: number): boolean {
  if (!state.owner) return false;
  const parts = state.owner.split(":");
  parts.pop();
  const pid = Number(parts.pop());
  const host = parts.join(":");
  // In this process it is known for sure, whatever the clocks say.
  if (host === hostname() && pid === process.pid) return running.has(state.owner);
  if (state.heartbeat === undefined || now - state.heartbeat > REINDEX_LEASE_MS) return false;
  return host === hostname() ? processExists(pid) : true;
}

function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
