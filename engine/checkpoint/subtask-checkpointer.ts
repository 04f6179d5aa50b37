import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { CheckpointStorage, StateHandle } from "../state/checkpoint-storage.ts";
import { listSnapshot, type OperatorSnapshot, type StreamOperator } from "../runtime/operator.ts";
import type { SubtaskCheckpointStats } from "./checkpoint.ts";
import type { InFlightBatch } from "./checkpointed-input.ts";
import type { FaultPoint } from "./faults.ts";
import { InjectedCrash, ProcessKilled } from "./faults.ts";
import type { CheckpointOptions, CoordinatorGateway } from "./gateway.ts";
import type { SnapshotStrategy } from "./snapshot-strategy.ts";
import { chainSnapshotPayload } from "./snapshot-codec.ts";
import { ById } from "./by-id.ts";
import { subtaskTraceId, subtaskTraceName, TraceEvent } from "../kernel/trace.ts";

/** A subtask's snapshot: one entry per operator uid of its chain, plus unaligned channel state. */
export type TaskSnapshot = Record<string, OperatorSnapshot>;

/** The key under which a task snapshot carries its in-flight records (NUL cannot start a uid one types). */
export const IN_FLIGHT_KEY = "\u0000in-flight";

/** What the checkpointer needs from the job: time, faults, storage and the way to the coordinator. */
export interface CheckpointerHost {
  readonly kernel: Kernel;
  fault(point: FaultPoint, task: string, checkpointId?: number): void;
  /** Extra virtual ms a slow task spends at this point (the fault injector's slowdown). */
  slowdown(point: FaultPoint, task: string, checkpointId: number): number;
  trace(line: string): void;
  wallMs(): number;
  /** Virtual ms the async phase of one snapshot takes (seeded). */
  asyncDelay(): number;
  /** Virtual ms an acknowledgement takes to reach the coordinator (seeded; the transport's latency). */
  ackLatency(): number;
  /** Where checkpoint `id` goes, or undefined when it is no longer pending (nothing to write). */
  storageFor(checkpointId: number): CheckpointStorage | undefined;
  /** Tasks -> coordinator, with the transport's latency. */
  readonly coordinatorGateway: CoordinatorGateway;
}

/** The task as the checkpointer sees it. */
export interface CheckpointedTask {
  readonly name: string;
  readonly vertexId: number;
  readonly vertexName: string;
  readonly subtask: number;
  readonly chain: readonly StreamOperator[];
  readonly uids: readonly string[];
  isRunning(): boolean;
  /** Send the barrier downstream `delay` virtual ms from now (a slow sync phase). */
  emitBarrier(checkpointId: number, options: CheckpointOptions, delay: number): void;
  fail(error: unknown): void;
}

/** One checkpoint between its sync phase and its ack; it is also the scheduler event that ends the async phase. */
class InProgress implements Runnable {
  inFlight?: InFlightBatch[];
  asyncDone = false;
  /**
   * The state travels inside the ack (in-memory storage, aligned): this event is the ack's arrival
   * as well as the async phase's end, scheduled after both, and the ack is delivered, not sent.
   */
  carried = false;
  constructor(
    readonly owner: SubtaskCheckpointer,
    readonly id: number,
    /** The chain's operator snapshots, in the order of the task's uids. */
    readonly ops: readonly OperatorSnapshot[],
    /** Incremental: the checkpoint the snapshot's deltas apply to. */
    readonly parent: number | undefined,
    readonly alignmentMs: number,
    readonly syncWallMs: number,
    public channelStateDone: boolean,
  ) {}
  run(): void {
    this.asyncDone = true;
    this.owner.asyncPhaseDone(this);
  }
}

/**
 * Flink's SubtaskCheckpointCoordinator: the synchronous phase (capture every operator's state,
 * send the barrier on), the asynchronous phase (write, later in virtual time), then acknowledge,
 * or decline when the write fails with an I/O error. An injected crash fails the task instead.
 */
export class SubtaskCheckpointer {
  private readonly inProgress = new ById<InProgress>();
  private lastCompleted = 0;

  /** The task's short id in trace lines (deploy traces which task it is): several lines per checkpoint, so they stay short. */
  private readonly tid: string;
  /** The same, as the trace's numeric task id (Task's `tcode`). */
  private readonly tcode: number;

  /** What every full snapshot's handle says of this subtask (one object, not one per checkpoint). */
  private readonly whole: Omit<StateHandle, "file" | "bytes">;

  constructor(private readonly task: CheckpointedTask, private readonly host: CheckpointerHost, private readonly strategy: SnapshotStrategy) {
    this.tid = subtaskTraceName(task.vertexId, task.subtask);
    this.tcode = subtaskTraceId(task.vertexId, task.subtask);
    this.whole = Object.freeze({ task: task.name, vertex: task.vertexName, subtask: task.subtask });
  }

  /** Sync phase. `unaligned`: the in-flight records follow (inFlight, then channelStateComplete). */
  checkpointState(checkpointId: number, options: CheckpointOptions, alignmentMs: number, unaligned: boolean): void {
    const t = this.task, h = this.host;
    h.fault("checkpoint.sync-snapshot", t.name, checkpointId);
    const slow = h.slowdown("checkpoint.sync-snapshot", t.name, checkpointId);
    const t0 = h.wallMs();
    this.strategy.beforeSnapshot?.(checkpointId, options);
    const ops: OperatorSnapshot[] = new Array(t.chain.length);
    let parent: number | undefined;
    for (let i = 0; i < t.chain.length; i++) {
      const o = (ops[i] = this.strategy.snapshot(checkpointId, t.uids[i], t.chain[i].snapshotState(checkpointId), options));
      if (parent === undefined && o.delta) parent = o.delta.parent;
    }
    const syncWallMs = h.wallMs() - t0;
    t.emitBarrier(checkpointId, options, slow);
    h.kernel.trace.event(h.kernel.now(), this.tcode, this.tid, TraceEvent.cpSnapshot, checkpointId, unaligned ? 1 : 0);
    const p = new InProgress(this, checkpointId, ops, parent, alignmentMs, syncWallMs, !unaligned);
    if (unaligned) p.inFlight = [];
    // Unaligned: the ack waits for the in-flight records too, so it is sent when both are done.
    else p.carried = h.coordinatorGateway.acknowledgeArrived !== undefined && h.storageFor(checkpointId)?.durable === false;
    this.inProgress.set(p);
    h.kernel.after(slow + h.asyncDelay() + h.slowdown("checkpoint.async-write", t.name, checkpointId) + (p.carried ? h.ackLatency() : 0), p);
  }

  /** The async phase's virtual time has passed (InProgress.run). */
  asyncPhaseDone(p: InProgress): void {
    this.maybeFinish(p.id, p);
  }

  inFlight(checkpointId: number, batch: InFlightBatch): void {
    this.inProgress.get(checkpointId)?.inFlight?.push(batch);
  }

  channelStateComplete(checkpointId: number): void {
    const p = this.inProgress.get(checkpointId);
    if (!p) return;
    p.channelStateDone = true;
    this.maybeFinish(checkpointId, p);
  }

  /** The task gave up on the checkpoint (cancelled, or a newer barrier overtook it). */
  abandon(checkpointId: number): void {
    this.inProgress.delete(checkpointId);
  }

  private maybeFinish(id: number, p: InProgress): void {
    if (!p.asyncDone || !p.channelStateDone || this.inProgress.get(id) !== p || !this.task.isRunning()) return;
    this.inProgress.delete(id);
    const t = this.task, h = this.host;
    const storage = h.storageFor(id);
    if (!storage) return; // aborted meanwhile: writing now would only leave an orphan behind
    const payload = p.inFlight?.length ? chainSnapshotPayload([...t.uids, IN_FLIGHT_KEY], [...p.ops, listSnapshot(p.inFlight)]) : chainSnapshotPayload(t.uids, p.ops);
    let handle: StateHandle;
    // In-memory storage keeps the snapshot as objects: its async phase does no work worth two clock reads.
    const timed = storage.durable;
    const t0 = timed ? h.wallMs() : 0;
    try {
      h.fault("checkpoint.async-write", t.name, id);
      const parent = p.parent;
      handle = storage.writeState(id, parent !== undefined ? { ...this.whole, parent } : this.whole, payload);
      h.fault("checkpoint.ack", t.name, id);
    } catch (e) {
      if (e instanceof InjectedCrash || e instanceof ProcessKilled) return t.fail(e);
      // Flink: an exception in the async phase declines the checkpoint; the task keeps running.
      h.trace(`${this.tid} decline cp=${id} IO_EXCEPTION`);
      h.coordinatorGateway.decline(t.name, id, "IO_EXCEPTION", (e as Error).message ?? String(e), h.kernel.now());
      return;
    }
    const asyncWallMs = timed ? h.wallMs() - t0 : 0;
    let stats: SubtaskCheckpointStats;
    if (p.inFlight) {
      let records = 0;
      for (const b of p.inFlight) records += b.values.length;
      stats = { task: t.name, ackTime: h.kernel.now(), alignmentMs: p.alignmentMs, syncWallMs: p.syncWallMs, asyncWallMs, stateBytes: handle.bytes, unaligned: true, channelStateRecords: records };
    } else stats = { task: t.name, ackTime: h.kernel.now(), alignmentMs: p.alignmentMs, syncWallMs: p.syncWallMs, asyncWallMs, stateBytes: handle.bytes };
    const g = h.coordinatorGateway;
    if (p.carried) g.acknowledgeArrived!(t.name, id, handle, stats, h.kernel.now());
    else g.acknowledge(t.name, id, handle, stats, h.kernel.now());
  }

  notifyComplete(checkpointId: number): void {
    if (checkpointId > this.lastCompleted) this.lastCompleted = checkpointId;
    this.strategy.completed(checkpointId);
    if (this.inProgress.size > 0) for (const p of [...this.inProgress.values()]) if (p.id < checkpointId) this.inProgress.delete(p.id);
  }

  notifyAborted(checkpointId: number): void {
    this.strategy.aborted(checkpointId);
    this.inProgress.delete(checkpointId);
  }
}
