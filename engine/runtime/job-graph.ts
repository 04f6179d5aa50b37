import { inputsOf, isKeyedOperator, isVirtual, type Transformation } from "../api/transformation.ts";
import type { Partitioning } from "./record-writer.ts";

/**
 * From the DataStream plan to what runs: vertices (a source or a chain of operators that
 * share a task), and network edges between them. An operator is chained into its input's
 * task when nothing else consumes that input, the edge is not a keyBy or side output, and
 * the parallelism matches — Flink's chaining rule, minus slot sharing.
 */
export interface OperatorNode {
  /** Stable identity for state: the user's uid, or derived from the plan position. */
  readonly uid: string;
  readonly name: string;
  readonly t: Transformation;
  readonly vertex: JobVertex;
  /** Network edges fed by this operator's main output. */
  readonly outEdges: JobEdge[];
  /** Network edges fed by side outputs, by tag. */
  readonly sideEdges: JobEdge[];
}

export interface JobVertex {
  readonly id: number;
  name: string;
  readonly parallelism: number;
  /** Head first; a source vertex starts with its source node. */
  readonly chain: OperatorNode[];
  readonly inEdges: JobEdge[];
  readonly isSource: boolean;
  readonly keyed: boolean;
}

export interface JobEdge {
  readonly from: JobVertex;
  readonly fromOp: OperatorNode;
  readonly to: JobVertex;
  readonly partitioning: Partitioning;
  readonly tag?: string;
}

export interface JobGraph {
  readonly vertices: JobVertex[];
  readonly maxParallelism: number;
}

interface Producer {
  t: Transformation;
  partitioning?: Partitioning;
  tag?: string;
}

/**
 * Walks through virtual nodes (keyBy, rebalance, side output, union) to the operators that
 * produce the records; the partitioning nearest the consumer wins, as in Flink.
 */
function producersOf(input: Transformation, partitioning?: Partitioning, tag?: string): Producer[] {
  let t = input;
  for (;;) {
    if (t.kind === "keyBy") {
      partitioning ??= { kind: "hash", keySelector: t.keySelector };
      t = t.input;
    } else if (t.kind === "rebalance") {
      partitioning ??= { kind: "rebalance" };
      t = t.input;
    } else if (t.kind === "sideOutput") {
      tag ??= t.tag;
      t = t.input;
    } else if (t.kind === "union") {
      return t.inputs.flatMap((i) => producersOf(i, partitioning, tag));
    } else return [{ t, partitioning, tag }];
  }
}

export function buildJobGraph(transformations: readonly Transformation[], defaultParallelism: number, maxParallelism: number): JobGraph {
  const ops = transformations.filter((t) => !isVirtual(t));
  const consumers = new Map<Transformation, number>();
  for (const t of ops) {
    if (t.kind === "source") continue;
    for (const p of producersOf(inputsOf(t)[0])) consumers.set(p.t, (consumers.get(p.t) ?? 0) + 1);
  }
  const nodeOf = new Map<Transformation, OperatorNode>();
  const vertices: JobVertex[] = [];
  const usedUids = new Set<string>();

  const newVertex = (t: Transformation, parallelism: number, isSource: boolean): JobVertex => {
    const v: JobVertex = { id: vertices.length, name: t.name, parallelism, chain: [], inEdges: [], isSource, keyed: isKeyedOperator(t) };
    vertices.push(v);
    return v;
  };

  for (const t of ops) {
    const uid = t.uid ?? `${t.kind}-${t.id}`;
    if (usedUids.has(uid)) throw new Error(`uid "${uid}" is used by two operators; uids must be unique`);
    usedUids.add(uid);
    const parallelism = t.parallelism ?? defaultParallelism;
    if (t.kind === "source") {
      const v = newVertex(t, parallelism, true);
      const node: OperatorNode = { uid, name: t.name, t, vertex: v, outEdges: [], sideEdges: [] };
      v.chain.push(node);
      nodeOf.set(t, node);
      continue;
    }
    const prods = producersOf(inputsOf(t)[0]);
    const ups = prods.map((p) => {
      const up = nodeOf.get(p.t);
      if (!up) throw new Error(`internal: ${t.name} consumes an operator that is not in the plan`);
      return up;
    });
    const prod = prods[0];
    const up = ups[0];
    const chainable =
      prods.length === 1 &&
      prod.partitioning === undefined &&
      prod.tag === undefined &&
      consumers.get(prod.t) === 1 &&
      up.vertex.parallelism === parallelism &&
      up.vertex.chain[up.vertex.chain.length - 1] === up &&
      !isKeyedOperator(t);
    if (chainable) {
      const v = up.vertex;
      const node: OperatorNode = { uid, name: t.name, t, vertex: v, outEdges: [], sideEdges: [] };
      v.chain.push(node);
      v.name = `${v.name} -> ${t.name}`;
      nodeOf.set(t, node);
      continue;
    }
    const v = newVertex(t, parallelism, false);
    const node: OperatorNode = { uid, name: t.name, t, vertex: v, outEdges: [], sideEdges: [] };
    v.chain.push(node);
    nodeOf.set(t, node);
    prods.forEach((p, i) => {
      const from = ups[i];
      const partitioning: Partitioning = p.partitioning ?? (from.vertex.parallelism === parallelism ? { kind: "forward" } : { kind: "rebalance" });
      const edge: JobEdge = { from: from.vertex, fromOp: from, to: v, partitioning, tag: p.tag };
      (p.tag === undefined ? from.outEdges : from.sideEdges).push(edge);
      v.inEdges.push(edge);
    });
  }
  uniqueNames(vertices);
  return { vertices, maxParallelism };
}

/**
 * A vertex's name is its tasks' identity (`<name>#<subtask>`): acks, checkpoint state files and
 * restore's parallelism map go by it. Two vertices of one name (two sinks named "Sink: Collect",
 * the main output's and the late side output's) would share their tasks' names, so the later
 * ones take " (2)", " (3)", ... in graph order: the same names in every run of the same job.
 */
function uniqueNames(vertices: readonly JobVertex[]): void {
  const taken = new Set<string>();
  for (const v of vertices) {
    let name = v.name;
    for (let n = 2; taken.has(name); n++) name = `${v.name} (${n})`;
    v.name = name;
    taken.add(name);
  }
}

/** Flink's plan view in one line per vertex, for logs and reports. */
export function describeJobGraph(g: JobGraph): string[] {
  return g.vertices.map((v) => {
    const ins = v.inEdges.map((e) => `${e.partitioning.kind.toUpperCase()}${e.tag ? `[${e.tag}]` : ""} from #${e.from.id}`).join(", ");
    return `#${v.id} ${v.name} (parallelism ${v.parallelism})${ins ? ` <- ${ins}` : ""}`;
  });
}
