import { createHash } from "node:crypto";
import fc from "fast-check";
import type { FaultPoint } from "../engine/checkpoint/faults.ts";
import { describeFault, describePlan, faultLabel, type Fault, type FaultKind } from "../sim/faults/fault-plan.ts";
import { DISK_PATHS, faultPlan, type DiskKind } from "./arbitraries/fault-plan.ts";
import { caseSpec, outcomeMessage, outcomeProperty, runCase, type Outcome, type OutcomeKind, type RunCase } from "./outcome.ts";
import { formatReplayLine } from "./replay-line.ts";
import { runScenario, type RunOptions, type ScenarioRun } from "./run-scenario.ts";
import type { ScenarioSpec } from "./spec.ts";
import { configLabels, describeConfig, SWARM_DIMENSIONS, swarmConfig, type SwarmConfig } from "./swarm.ts";

export { describePlan };

export interface ChaosOptions {
  /** The spec faults are drawn for (its own fault list is ignored). */
  spec: ScenarioSpec;
  runs: number;
  seed: number;
  /** Replay run `run` only (and with `path`, exactly that fast-check counterexample of it). */
  run?: number;
  path?: string;
  maxFaults?: number;
  points?: readonly FaultPoint[];
  kinds?: readonly FaultKind[];
  /** Disk fault kinds to draw (default: those a correct engine survives). */
  diskKinds?: readonly DiskKind[];
  /** The flinch chaos arguments that select this spec (without --seed/--run/--path/--runs), for replay lines. */
  args: readonly string[];
  /** Shrink findings (default true); off where only the per-run records matter. */
  shrink?: boolean;
  /** Stop at the first finding (default true). */
  stopOnFailure?: boolean;
  /** Parent of the kv backend's working directories: each worker thread needs its own (see chaos-worker.ts). */
  kvLocalDir?: string;
  /**
   * The calibration's passages, when another thread already ran it (chaos-pool.ts): the fault
   * arbitraries need only these, so a worker thread does not run the fault-free job again.
   */
  passages?: readonly (readonly [string, number])[];
}

/** One run of a campaign, as the summary and the determinism tests see it. */
export interface RunRecord {
  readonly index: number;
  readonly outcome: OutcomeKind;
  readonly property: string;
  readonly traceHash: string;
  readonly drawnFaults: readonly string[];
  readonly drawnConfig: readonly string[];
  readonly fired: readonly string[];
  readonly restarts: number;
  readonly checkpoints: { completed: number; aborted: number };
}

export interface ChaosFailure {
  readonly seed: number;
  readonly index: number;
  readonly path: string;
  readonly outcome: Outcome;
  readonly property: string;
  readonly message: string;
  readonly faults: Fault[];
  readonly config: SwarmConfig;
  readonly engineSeed: number;
  /** The shrunk case, explicitly: `--engine-seed E --config C --faults F` runs exactly it. */
  readonly replay: string;
  /** The fast-check form: this campaign's seed, the run's index and the shrink path. */
  readonly replayPath: string;
  /** The shrunk case as a scenario file (`flinch chaos --spec FILE`). */
  readonly scenarioFile: string;
  readonly numShrinks: number;
  readonly run?: ScenarioRun;
}

export interface ChaosResult {
  readonly runs: number;
  readonly passed: number;
  readonly failures: ChaosFailure[];
  readonly records: RunRecord[];
  readonly outcomes: Record<OutcomeKind, number>;
  /** How often each fault kind and configuration dimension was drawn. */
  readonly drawn: { faults: Record<string, number>; config: Record<string, number> };
  readonly faultsFired: Record<string, number>;
  readonly restarts: number;
  readonly checkpoints: { completed: number; aborted: number };
  /** sha256 over every run's trace hash in run order: the same for any worker count or shard split. */
  readonly traceHash: string;
  readonly sample?: ScenarioRun;
}

/** The fast-check seed of run `index`: runs are independent, so workers and shards can split them. */
export function runSeed(seed: number, index: number): number {
  return createHash("sha256").update(`${seed}/${index}`).digest().readInt32LE(0);
}

/**
 * A campaign: property-based chaos over one scenario. Run `i` draws its configuration (swarm),
 * engine seed and faults from its own seed; a run that does not pass is shrunk — configuration
 * toward the scenario's job, faults toward none — and carries the commands that replay it.
 */
export class ChaosCampaign {
  readonly records: RunRecord[] = [];
  readonly failures: ChaosFailure[] = [];
  /** The fault-free run (calibration); undefined when even that throws (then every run is a finding). */
  readonly sample?: ScenarioRun;
  private readonly arb: fc.Arbitrary<RunCase>;

  constructor(readonly o: ChaosOptions) {
    // Calibration: how often each point is passed without faults bounds the occurrences drawn.
    const tasks = ["#0", "#1", "#2", "#3", "Source", "Window", "coordinator"];
    if (o.passages === undefined) {
      try {
        this.sample = runScenario({ ...o.spec, faults: [], feedFaults: undefined, job: { ...o.spec.job, diskFaults: [] } }, { ...this.runOpts(), countTargets: [...tasks, ...DISK_PATHS] });
      } catch (e) {
        if (e && typeof e === "object" && (e as { exitCode?: unknown }).exitCode === 2) throw e; // bad input (a missing fixture): the user's, not a finding
      }
    }
    const passages = o.passages !== undefined ? new Map(o.passages) : (this.sample?.passages ?? new Map<string, number>());
    const spec = o.spec;
    const kinds = o.kinds ?? spec.faultKinds ?? ["crash", "kill"];
    this.arb = fc.record({
      engineSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      config: swarmConfig(spec, { dimensions: spec.swarm ?? [] }),
      faults: faultPlan({ passages, maxFaults: o.maxFaults ?? 3, points: o.points, tasks, kinds, diskKinds: o.diskKinds, maxSlowMs: 2 * spec.job.timeoutMs, skewWithinMs: spec.feed.kind === "generated" ? spec.feed.durationMs : undefined }),
    });
  }

  /** Runs run `index` (drawing, and shrinking if it fails); returns its record. */
  step(index: number): RunRecord {
    const o = this.o;
    const seed = runSeed(o.seed, index);
    // The run itself: fc.check's first value for this seed, drawn without running fast-check's
    // shrinker; fc.check runs only when there is something to shrink (or a path to replay).
    let first: { c: RunCase; outcome: Outcome; run?: ScenarioRun } | undefined;
    if (o.path === undefined) {
      const [c] = fc.sample(this.arb, { seed, numRuns: 1 });
      first = { c, ...runCase(o.spec, c, this.runOpts()) };
    }
    let failing: { c: RunCase; outcome: Outcome } | undefined;
    let details: { failed: boolean; counterexample: [RunCase] | null; counterexamplePath: string | null; numShrinks: number } | undefined;
    if (first === undefined || (first.outcome.kind !== "passed" && o.shrink !== false)) {
      const kind = first?.outcome.kind;
      details = fc.check(
        fc.property(this.arb, (c) => {
          const r = runCase(o.spec, c, this.runOpts());
          first ??= { c, ...r };
          if (r.outcome.kind === "passed") return true;
          // While shrinking, only a failure of the first one's class counts: do not slide to another bug.
          const target = kind ?? failing?.outcome.kind;
          if (target !== undefined && r.outcome.kind !== target) return true;
          failing = { c, outcome: r.outcome };
          return false;
        }),
        { numRuns: 1, seed, path: o.path, endOnFailure: o.path !== undefined },
      );
    }
    const f = first!;
    const run = f.run;
    const record: RunRecord = {
      index,
      outcome: f.outcome.kind,
      property: outcomeProperty(f.outcome),
      traceHash: run?.result.traceHash ?? createHash("sha256").update(outcomeMessage(f.outcome)).digest("hex"),
      drawnFaults: f.c.faults.map(faultLabel),
      drawnConfig: configLabels(f.c.config),
      // Engine-point faults count by point (where the run was hit), disk and feed faults by kind.
      fired: run?.fired.map((x) => ("point" in x.fault ? x.fault.point : faultLabel(x.fault))) ?? [],
      restarts: run?.result.restarts ?? 0,
      checkpoints: {
        completed: run?.result.checkpoints.filter((c) => c.status === "completed").length ?? 0,
        aborted: run?.result.checkpoints.filter((c) => c.status === "failed").length ?? 0,
      },
    };
    this.records.push(record);
    if (f.outcome.kind !== "passed" && o.shrink === false) {
      this.failures.push(this.describeFinding(index, f.c, f.outcome, "0", 0, run));
    } else if (details?.failed && details.counterexamplePath !== null) {
      const [shrunk] = details.counterexample ?? [failing!.c];
      this.failures.push(this.finding(index, shrunk, failing?.outcome ?? f.outcome, details.counterexamplePath, details.numShrinks));
    }
    return record;
  }

  private finding(index: number, shrunk: RunCase, seen: Outcome, path: string, numShrinks: number): ChaosFailure {
    const o = this.o;
    const c = minimize(o.spec, shrunk, seen.kind, this.runOpts());
    // Re-run the minimal case so the failure's history is its own.
    const { outcome, run } = runCase(o.spec, c, { ...this.runOpts(), keepTrace: true });
    return this.describeFinding(index, c, outcome, path, numShrinks, run);
  }

  private describeFinding(index: number, c: RunCase, outcome: Outcome, path: string, numShrinks: number, run: ScenarioRun | undefined): ChaosFailure {
    const o = this.o;
    const plan = describePlan(c.faults);
    const cfg = describeConfig(c.config);
    return {
      seed: o.seed, index, path, outcome, property: outcomeProperty(outcome), message: outcomeMessage(outcome),
      faults: [...c.faults], config: c.config, engineSeed: c.engineSeed, numShrinks, run,
      replay: formatReplayLine("chaos", [...o.args, "--engine-seed", String(c.engineSeed), ...(cfg ? ["--config", cfg] : []), "--faults", c.faults.length ? plan : ""]),
      replayPath: formatReplayLine("chaos", [...o.args, "--seed", String(o.seed), "--run", String(index), "--path", path]),
      scenarioFile: scenarioFile(o.spec, c),
    };
  }

  /** What a worker thread needs of this campaign's calibration (plain data, to cross threads). */
  passages(): [string, number][] {
    return [...(this.sample?.passages ?? new Map<string, number>())];
  }

  private runOpts(): RunOptions {
    return this.o.kvLocalDir !== undefined ? { kvLocalDir: this.o.kvLocalDir } : {};
  }

  result(): ChaosResult {
    return summarize(this.records, this.failures, this.sample);
  }
}

/** The campaign's summary from its runs, in run order whatever order they completed in (workers, shards). */
export function summarize(all: readonly RunRecord[], failures: readonly ChaosFailure[], sample: ScenarioRun | undefined): ChaosResult {
  const records = [...all].sort((a, b) => a.index - b.index);
  const outcomes: Record<OutcomeKind, number> = { passed: 0, violated: 0, liveness: 0, crashed: 0 };
  const drawn = { faults: {} as Record<string, number>, config: {} as Record<string, number> };
  const fired: Record<string, number> = {};
  let restarts = 0, completed = 0, aborted = 0;
  const hash = createHash("sha256");
  for (const r of records) {
    outcomes[r.outcome]++;
    for (const l of r.drawnFaults) drawn.faults[l] = (drawn.faults[l] ?? 0) + 1;
    for (const l of r.drawnConfig) drawn.config[l] = (drawn.config[l] ?? 0) + 1;
    for (const l of r.fired) fired[l] = (fired[l] ?? 0) + 1;
    restarts += r.restarts;
    completed += r.checkpoints.completed;
    aborted += r.checkpoints.aborted;
    hash.update(r.traceHash);
  }
  return {
    runs: records.length, passed: outcomes.passed, failures: [...failures].sort((a, b) => a.index - b.index), records, outcomes, drawn,
    faultsFired: fired, restarts, checkpoints: { completed, aborted }, traceHash: hash.digest("hex"), sample,
  };
}

/** Runs a whole campaign in this thread: runs 0..runs-1 (or only `run`), stopping at the first finding. */
export function runChaos(o: ChaosOptions): ChaosResult {
  const c = new ChaosCampaign(o);
  for (const i of o.run !== undefined ? [o.run] : Array.from({ length: o.runs }, (_v, i) => i)) {
    if (c.step(i).outcome !== "passed" && o.stopOnFailure !== false) break;
  }
  return c.result();
}

/**
 * fast-check shrinks the whole value at once and can stop where no single step keeps the run
 * failing; dropping faults one at a time (delta debugging's 1-minimal pass) and resetting each
 * configuration dimension to the scenario's own often gets further. Deterministic, so the
 * replay line, which reproduces fast-check's counterexample, also reproduces this result. Only
 * a failure of the same class counts, so shrinking does not slide to another bug.
 */
function minimize(spec: ScenarioSpec, c: RunCase, kind: OutcomeKind, opts: RunOptions): RunCase {
  const fails = (x: RunCase) => runCase(spec, x, opts).outcome.kind === kind;
  let cur = c;
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < cur.faults.length && !changed; i++) {
      const candidate = { ...cur, faults: cur.faults.filter((_f, j) => j !== i) };
      if (fails(candidate)) [cur, changed] = [candidate, true];
    }
    for (const d of SWARM_DIMENSIONS) {
      if (changed || cur.config[d] === undefined) continue;
      const { [d]: _drop, ...rest } = cur.config;
      const candidate = { ...cur, config: rest };
      if (fails(candidate)) [cur, changed] = [candidate, true];
    }
  }
  return cur;
}

/** The case as a scenario file: the spec with its configuration applied, faults written in the plan syntax. */
export function scenarioFile(spec: ScenarioSpec, c: RunCase): string {
  const s = caseSpec(spec, c);
  return JSON.stringify({ ...s, faults: s.faults.map(describeFault), drawFeedFaults: undefined, swarm: undefined }, null, 2);
}
