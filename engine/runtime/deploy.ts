import { subtaskTraceId, subtaskTraceName } from "../kernel/trace.ts";
import type { Source } from "../api/source.ts";
import type { Transformation } from "../api/transformation.ts";
import { DiffingIncrementalSnapshots, FULL_SNAPSHOTS } from "../checkpoint/snapshot-strategy.ts";
import type { RestorePoint } from "../checkpoint/restore.ts";
import { Channel } from "./channel.ts";
import type { JobVertex } from "./job-graph.ts";
import type { JobSpec } from "./job-spec.ts";
import type { KeyedStateBackend } from "../state/keyed-state.ts";
import { keyGroupRangeFor } from "../state/keygroups.ts";
import type { JobReport, Output, StreamOperator } from "./operator.ts";
import { createOperator } from "./operator-factory.ts";
import { ChainingOutput, NetworkOutput } from "./outputs.ts";
import { RecordWriter, uniformLatency } from "./record-writer.ts";
import { SourceOperator } from "./source-operator.ts";
import { SourceTask } from "./source-task.ts";
import { StreamTask } from "./stream-task.ts";
import type { Task, TaskHost } from "./task.ts";

/** What deployment needs from the job runner, beyond what tasks need. */
export interface DeployHost extends TaskHost {
  readonly attempt: number;
  readonly incremental: boolean;
  readonly reports: JobReport[];
  count(what: string, n: number): void;
  wakeSource(task: Task): void;
}

export interface Deployment {
  readonly tasks: Task[];
  /** The tasks a checkpoint trigger goes to. */
  readonly sources: Task[];
}

/** Restoring in-flight records at another parallelism would hand records to subtasks that do not own their keys. */
export class UnalignedRescaleError extends Error {
  override readonly name = "UnalignedRescaleError";
  readonly exitCode = 2;
}

/**
 * One attempt's physical job: channels for every edge, then per subtask its writers, its chain
 * of operators (built back to front so each output can point at the next), its keyed backend,
 * restored state, and the task itself. Sources are woken last.
 */
export function deployTasks(spec: JobSpec, host: DeployHost, restore: RestorePoint | undefined): Deployment {
  const { graph, exec, world } = spec;
  const kernel = host.kernel;
  const rng = kernel.rng.fork(`attempt-${host.attempt}`);
  const link = uniformLatency(rng.fork("network"), exec.latencyMin, exec.latencyMax);
  const now = () => kernel.now();
  const tasks: Task[] = [];
  const sources: Task[] = [];

  // Channels first (receivers are filled in once tasks exist): chans[edge][up][down].
  const proxies = new Map<JobVertex, { task?: Task; wake(at: number): void }[]>();
  for (const v of graph.vertices) {
    proxies.set(v, Array.from({ length: v.parallelism }, () => ({ task: undefined as Task | undefined, wake(at: number) { this.task?.wake(at); } })));
  }
  const inputs = new Map<JobVertex, Channel[][]>();
  const chans = new Map<object, Channel[][]>();
  for (const v of graph.vertices) inputs.set(v, Array.from({ length: v.parallelism }, () => []));
  for (const v of graph.vertices) {
    for (const e of v.inEdges) {
      const grid: Channel[][] = [];
      for (let i = 0; i < e.from.parallelism; i++) {
        const row: Channel[] = [];
        for (let j = 0; j < v.parallelism; j++) {
          if (e.partitioning.kind === "forward" && e.from.parallelism === v.parallelism && i !== j) continue;
          const ch = new Channel(`${e.from.id}.${i}->${v.id}.${j}`, proxies.get(v)![j]);
          row[j] = ch;
          inputs.get(v)![j].push(ch);
        }
        grid.push(row);
      }
      chans.set(e, grid);
    }
  }

  // A deploy that fails part-way (a restore that cannot be read, a fault at the restore point, a
  // kill) releases what it opened: the runner never sees these tasks, and a kv backend holds files
  // and an lmdb environment. Chaos shrinking such runs thousands of times in one worker ran out of
  // file descriptors (EMFILE) before this.
  // Canceling a task disposes its backend; this is one opened for a task not yet made.
  let unowned: KeyedStateBackend | undefined;
  try {
    for (const v of graph.vertices) {
      const was = restore?.parallelism.get(v.name);
      if (was !== undefined && was !== v.parallelism && [...(restore?.inFlight.keys() ?? [])].some((t) => t.startsWith(`${v.name}#`))) {
        throw new UnalignedRescaleError(`"${v.name}": cannot change parallelism from ${was} to ${v.parallelism} when restoring unaligned checkpoint ${restore!.checkpointId} with in-flight records; restore from a savepoint (always aligned) instead`);
      }
      for (let i = 0; i < v.parallelism; i++) {
        const name = `${v.name}#${i}`;
        // Frequent trace lines (operators', sinks', checkpoints') name the task by this short id; the mapping is traced once per attempt.
        const tid = subtaskTraceName(v.id, i);
        const tcode = subtaskTraceId(v.id, i); // the same subtask's number as its Task's in Trace.event
        host.trace(`${tid} is ${name}`);
        const writers: RecordWriter[] = [];
        const mkWriters = (edges: typeof v.chain[number]["outEdges"]) =>
          edges.map((e) => {
            const row = chans.get(e)![i];
            const targets = e.partitioning.kind === "forward" && e.from.parallelism === e.to.parallelism ? [row[i]] : row;
            const w = new RecordWriter(targets, e.partitioning, i, graph.maxParallelism, exec.batchSize, link, now, rng.fork(`rr-${name}`));
            writers.push(w);
            return w;
          });
        const keyedBackend = v.keyed ? spec.backend.createKeyedBackend(keyGroupRangeFor(i, v.parallelism, graph.maxParallelism), name) : undefined;
        unowned = keyedBackend;
        const strategy = !keyedBackend ? FULL_SNAPSHOTS : spec.backend.createSnapshotStrategy?.(keyedBackend, host.incremental) ?? (host.incremental ? new DiffingIncrementalSnapshots() : FULL_SNAPSHOTS);
        // Build the chain back to front so each operator's output can point at the next.
        const ops: StreamOperator[] = new Array(v.chain.length);
        let reader: ReturnType<Source<unknown>["createReader"]> | undefined;
        let splitCount = 0;
        for (let k = v.chain.length - 1; k >= 0; k--) {
          const node = v.chain[k];
          const sides = new Map<string, RecordWriter[]>();
          for (const e of node.sideEdges) {
            const [w] = mkWriters([e]);
            const l = sides.get(e.tag!) ?? [];
            l.push(w);
            sides.set(e.tag!, l);
          }
          const output: Output<unknown> = k < v.chain.length - 1 ? new ChainingOutput(ops[k + 1], sides) : new NetworkOutput(mkWriters(node.outEdges), sides);
          let op: StreamOperator;
          if (node.t.kind === "source") {
            const t = node.t as Transformation & { kind: "source" };
            const splits = t.source.createSplits(world).filter((_s, idx) => idx % v.parallelism === i);
            splitCount = splits.length;
            reader = t.source.createReader(splits, {
              subtaskIndex: i, parallelism: v.parallelism, kernel, rng: rng.fork(`source-${name}`), log: spec.log, world,
              wakeup() {
                const task = proxies.get(v)![i].task;
                if (task) host.wakeSource(task);
              },
              trace: (w) => host.trace(`${tid} ${w}`),
              count: (w, n) => host.count(w, n),
            });
            op = new SourceOperator(reader);
          } else op = createOperator(node.t, host.attempt);
          op.setup({
            operatorName: node.name, operatorUid: node.uid, subtaskIndex: i, parallelism: v.parallelism, maxParallelism: graph.maxParallelism,
            kernel, rng: rng.fork(`op-${node.uid}-${i}`), log: spec.log, fs: world.fs, checkpointingEnabled: host.checkpointing, keyedBackend,
            report: (r) => void host.reports.push(r),
            trace: (w) => host.trace(`${tid} ${w}`),
            traceEvent: (kind, a, b = 0) => kernel.trace.event(kernel.now(), tcode, tid, kind, a, b),
            fault: (p, cp) => host.fault(p, name, cp),
          }, output);
          ops[k] = op;
        }
        const uids = v.chain.map((n) => n.uid);
        let task: Task;
        let stream: StreamTask | undefined;
        if (v.isSource) {
          task = new SourceTask(name, v.id, v.name, i, host, ops, uids, writers, reader!, splitCount, (v.chain[0].t as Transformation & { kind: "source" }).watermarks, exec.batchSize, exec.autoWatermarkInterval, exec.sourcePollInterval);
          sources.push(task);
        } else {
          task = stream = new StreamTask(name, v.id, v.name, i, host, ops, uids, writers, keyedBackend, strategy, inputs.get(v)![i], rng.fork(`gate-${name}`), exec.maxElementsPerStep);
        }
        tasks.push(task);
        unowned = undefined;
        proxies.get(v)![i].task = task;
        if (restore) host.fault("restore", name, restore.checkpointId);
        for (let k = 0; k < ops.length; k++) ops[k].initializeState(restore?.byUid.get(uids[k]));
        for (const op of ops) op.open();
        const inFlight = restore?.inFlight.get(name);
        if (stream && inFlight) stream.restoreInFlight(inFlight);
      }
    }
  } catch (e) {
    for (const t of tasks) t.cancel();
    unowned?.dispose();
    throw e;
  }
  for (const t of sources) t.wake(kernel.now());
  return { tasks, sources };
}
