import { fc, test as fcTest } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { Rng } from "../../engine/kernel/rng.ts";
import { FileSystemCheckpointStorage, type StateHandle } from "../../engine/state/checkpoint-storage.ts";
import { mkdirDurable, type Fs } from "../../engine/state/fs.ts";
import { CorruptFrameError, frame, unframe } from "../../engine/state/framing.ts";
import { snapshotPayload } from "../../engine/checkpoint/snapshot-codec.ts";
import { loadLatestValid, NoValidCheckpointError } from "../../engine/checkpoint/restore.ts";
import { describeCrash, SimFs, type CrashReport } from "./sim-fs.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
function codeOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return (e as { code?: unknown }).code;
  }
  return "no error";
}

/** A SimFs with `/d` durable, so tests start from a directory that exists on the disk. */
function disk(seed = "s", tearProbability?: number): SimFs {
  const fs = new SimFs(new Rng(seed), { tearProbability });
  fs.mkdirp("/d");
  fs.fsyncDir("/");
  return fs;
}
/** Written, fsynced, and its entry fsynced: durable. */
function durableFile(fs: SimFs, p: string, data: string): void {
  fs.writeFile(p, bytes(data));
  fs.fsync(p);
  fs.fsyncDir(p.slice(0, p.lastIndexOf("/")) || "/");
}
const seeds = Array.from({ length: 40 }, (_, i) => `seed-${i}`);

describe("SimFs crash model", () => {
  it("loses an unsynced write; a file whose entry was never fsynced vanishes", () => {
    const fs = disk();
    durableFile(fs, "/d/a", "");
    fs.writeFile("/d/a", bytes("0123456789"));
    fs.writeFile("/d/new", bytes("xyz"));
    fs.fsync("/d/new");
    expect(text(fs.readFile("/d/a"))).toBe("0123456789");
    const r = fs.crash("lose-all");
    expect(fs.readFile("/d/a")).toEqual(new Uint8Array(0));
    expect(fs.exists("/d/new")).toBe(false);
    expect(r).toEqual({ lost: [{ path: "/d/a", bytes: 10 }], torn: [], reverted: ["create /d/new"], vanished: ["/d/new"] });
    expect(describeCrash(r)).toBe("lost 10 unsynced bytes of /d/a; undid create /d/new; /d/new vanished");
  });

  it("keeps a synced file whole under every seeded crash", () => {
    for (const seed of seeds) {
      const fs = disk(seed);
      durableFile(fs, "/d/f", "durable bytes");
      const r = fs.crash();
      expect(text(fs.readFile("/d/f"))).toBe("durable bytes");
      expect(describeCrash(r)).toBe("nothing lost");
    }
  });

  it("a rename without fsyncDir may revert (never both names, never neither); with fsyncDir it survives", () => {
    const outcomes = new Set<string>();
    for (const seed of seeds) {
      for (const sync of [false, true]) {
        const fs = disk(seed);
        durableFile(fs, "/d/tmp", "payload");
        fs.rename("/d/tmp", "/d/final");
        if (sync) fs.fsyncDir("/d");
        const r = fs.crash();
        const names = fs.readdir("/d").join(",");
        if (sync) expect(names).toBe("final");
        else outcomes.add(names);
        expect(r.reverted).toEqual(names === "tmp" ? ["rename /d/tmp -> /d/final"] : []);
        expect(text(fs.readFile(`/d/${names}`))).toBe("payload");
      }
    }
    expect([...outcomes].sort()).toEqual(["final", "tmp"]);
  });

  it("a rename between directories is a link and an unlink, each durable only by fsyncDir of its own directory", () => {
    // What survives a power loss, by which directories were fsynced after the rename.
    const outcomes = (syncs: readonly string[]): string[] => {
      const seen = new Set<string>();
      for (const seed of seeds) {
        const fs = disk(seed);
        fs.mkdirp("/d/p");
        fs.mkdirp("/d/out");
        fs.fsyncDir("/d");
        durableFile(fs, "/d/p/t", "payload");
        fs.rename("/d/p/t", "/d/out/t");
        for (const d of syncs) fs.fsyncDir(d);
        fs.crash();
        const names = ["/d/p/t", "/d/out/t"].filter((p) => fs.exists(p));
        for (const p of names) expect(text(fs.readFile(p))).toBe("payload");
        seen.add(names.join(" + ") || "neither");
      }
      return [...seen].sort();
    };
    expect(outcomes([])).toEqual(["/d/out/t", "/d/p/t", "/d/p/t + /d/out/t"]);
    expect(outcomes(["/d/out"])).toEqual(["/d/out/t", "/d/p/t + /d/out/t"]);
    // The source's fsync alone makes the old name's removal durable, not the new name: the data can be gone.
    expect(outcomes(["/d/p"])).toEqual(["/d/out/t", "neither"]);
    expect(outcomes(["/d/out", "/d/p"])).toEqual(["/d/out/t"]);
    expect(outcomes(["/d/p", "/d/out"])).toEqual(["/d/out/t"]);
  });

  it("tears an unsynced append to a seeded prefix: same seed, same outcome", () => {
    const run = (seed: string): [string, CrashReport] => {
      const fs = disk(seed, 1);
      durableFile(fs, "/d/log", "head|");
      fs.appendFile("/d/log", bytes("a".repeat(100)));
      const r = fs.crash();
      return [text(fs.readFile("/d/log")), r];
    };
    const kept = new Set<number>();
    for (const seed of seeds) {
      const [content, r] = run(seed);
      expect(run(seed)).toEqual([content, r]);
      expect(r.torn).toHaveLength(1);
      const { path, bytes: unsynced, kept: k } = r.torn[0];
      expect([path, unsynced]).toEqual(["/d/log", 100]);
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThanOrEqual(99);
      expect(content).toBe("head|" + "a".repeat(k));
      kept.add(k);
    }
    expect(kept.size).toBeGreaterThan(5);
  });

  it("a directory whose own entry was never fsynced takes its files with it", () => {
    const fs = disk();
    fs.mkdirp("/d/x/y");
    durableFile(fs, "/d/x/y/f", "data");
    const r = fs.crash("lose-all");
    expect(fs.exists("/d/x")).toBe(false);
    expect(r.vanished).toEqual(["/d/x/y/f"]);
    expect(r.reverted).toEqual(["mkdir /d/x", "mkdir /d/x/y"]);
  });

  it("durableSnapshot is what a lose-all crash leaves; clone is independent", () => {
    const fs = disk();
    durableFile(fs, "/d/a", "A");
    fs.writeFile("/d/a", bytes("B"));
    fs.writeFile("/d/b", bytes("b"));
    const snap = fs.durableSnapshot();
    expect([...snap.files].map(([p, b]) => [p, text(b)])).toEqual([["/d/a", "A"]]);
    expect(snap.dirs).toEqual(["/", "/d"]);
    const c = fs.clone(new Rng("c"));
    c.crash("lose-all");
    expect(text(fs.readFile("/d/a"))).toBe("B");
    expect(text(c.readFile("/d/a"))).toBe("A");
    expect(c.exists("/d/b")).toBe(false);
  });

  const op = fc.oneof(
    fc.record({ k: fc.constantFrom("write", "append", "fsync", "unlink"), f: fc.constantFrom("a", "b"), n: fc.nat(20) }),
    fc.record({ k: fc.constantFrom("rename", "fsyncDir"), f: fc.constantFrom("a", "b"), n: fc.constant(0) }),
  );
  fcTest.prop([fc.array(op, { maxLength: 25 }), fc.string(), fc.boolean()])("same seed, same crash; after fsync of all, nothing is lost", (ops, seed, syncAll) => {
    const fs = disk(seed);
    for (const o of ops) {
      const p = `/d/${o.f}`;
      if (o.k === "write") fs.writeFile(p, bytes("w".repeat(o.n)));
      else if (o.k === "append") fs.appendFile(p, bytes("p".repeat(o.n)));
      else if (o.k === "unlink") fs.unlink(p);
      else if (o.k === "rename" && fs.exists(p)) fs.rename(p, `/d/${o.f === "a" ? "b" : "a"}`);
      else if (o.k === "fsync" && fs.exists(p)) fs.fsync(p);
      else if (o.k === "fsyncDir") fs.fsyncDir("/d");
    }
    if (syncAll) {
      for (const f of fs.readdir("/d")) fs.fsync(`/d/${f}`);
      fs.fsyncDir("/d");
    }
    const view = (x: SimFs) => x.readdir("/d").map((f) => [f, text(x.readFile(`/d/${f}`))]);
    const before = view(fs);
    const [a, b] = [fs.clone(new Rng(seed)), fs.clone(new Rng(seed))];
    const ra = a.crash();
    expect(b.crash()).toEqual(ra);
    expect(view(b)).toEqual(view(a));
    if (syncAll) expect([view(a), describeCrash(ra)]).toEqual([before, "nothing lost"]);
  });
});

describe("SimFs injected faults", () => {
  it("ENOSPC after a byte budget: a short write, code ENOSPC, until clear()", () => {
    const fs = disk();
    fs.inject({ kind: "enospc", path: ".state", afterBytes: 10 });
    fs.writeFile("/d/other", bytes("0123456789abcdef"));
    fs.writeFile("/d/x.state", bytes("0123"));
    expect(codeOf(() => fs.writeFile("/d/y.state", bytes("456789abcd")))).toBe("ENOSPC");
    expect(text(fs.readFile("/d/y.state"))).toBe("456789");
    expect(codeOf(() => fs.appendFile("/d/x.state", bytes("z")))).toBe("ENOSPC");
    fs.clear();
    fs.appendFile("/d/x.state", bytes("z"));
    expect(text(fs.readFile("/d/x.state"))).toBe("0123z");
  });

  it("EIO on the n-th read, on every write, on fsync (which then persists nothing)", () => {
    const fs = disk();
    durableFile(fs, "/d/f", "abc");
    fs.inject({ kind: "eio", op: "read", path: "/d/f", occurrence: 2 });
    expect(text(fs.readFile("/d/f"))).toBe("abc");
    expect(codeOf(() => fs.readFile("/d/f"))).toBe("EIO");
    expect(text(fs.readFile("/d/f"))).toBe("abc");
    fs.inject({ kind: "eio", op: "write" });
    expect(codeOf(() => fs.writeFile("/d/f", bytes("new")))).toBe("EIO");
    expect(codeOf(() => fs.appendFile("/d/g", bytes("new")))).toBe("EIO");
    expect([text(fs.readFile("/d/f")), fs.exists("/d/g")]).toEqual(["abc", false]);
    fs.clear();
    fs.writeFile("/d/f", bytes("new"));
    fs.inject({ kind: "eio", op: "fsync", path: "/d/f" });
    expect(codeOf(() => fs.fsync("/d/f"))).toBe("EIO");
    fs.crash("lose-all");
    expect(text(fs.readFile("/d/f"))).toBe("abc");
  });

  it("an intermittent EIO fails the n-th matching call and every k-th after it, `times` in all, with successes between", () => {
    const fs = disk();
    fs.inject({ kind: "eio", op: "write", path: "/d/", occurrence: 2, times: 3, every: 3 });
    const failed = Array.from({ length: 12 }, (_, i) => codeOf(() => fs.writeFile(`/d/f${i}`, bytes("x"))) === "EIO");
    // calls 2, 5 and 8 fail; none after the third failure
    expect(failed.flatMap((f, i) => (f ? [i + 1] : []))).toEqual([2, 5, 8]);
    fs.writeFile("/e", bytes("other path"));
  });

  it("healing the transient faults keeps an intermittent EIO until its last failure, and removes it after", () => {
    const fs = disk();
    fs.inject({ kind: "eio", op: "write", path: "/d/", occurrence: 1, times: 2, every: 2 });
    fs.inject({ kind: "eio", op: "fsync", path: "/d/", occurrence: 5 });
    fs.inject({ kind: "enospc", path: "/d/", afterBytes: 0 });
    expect(codeOf(() => fs.writeFile("/d/a", bytes("x")))).toBe("EIO");
    fs.healTransient(); // the full disk and the one-off fsync error go; the intermittent error stays
    fs.writeFile("/d/b", bytes("x"));
    expect(codeOf(() => fs.writeFile("/d/c", bytes("x")))).toBe("EIO");
    fs.writeFile("/d/d", bytes("x"));
    fs.healTransient();
    for (let i = 0; i < 6; i++) fs.fsync("/d/d");
  });

  it("a bit flip changes exactly one bit of the stored file, and framing detects it", () => {
    for (const seed of seeds) {
      const fs = disk(seed);
      const framed = frame(bytes("some state payload"));
      fs.writeFile("/d/s", framed);
      fs.fsync("/d/s");
      fs.fsyncDir("/d");
      const what = fs.inject({ kind: "bitflip", path: "/d/s" });
      expect(what).toMatch(/^bitflip \/d\/s byte \d+ bit [0-7]$/);
      const after = fs.readFile("/d/s");
      let diffBits = 0;
      for (let i = 0; i < framed.length; i++) for (let x = framed[i] ^ after[i]; x; x &= x - 1) diffBits++;
      expect(diffBits).toBe(1);
      expect(() => unframe(after, "/d/s")).toThrow(CorruptFrameError);
      fs.crash();
      expect(fs.readFile("/d/s")).toEqual(after);
    }
    const fs = disk();
    durableFile(fs, "/d/t", "A");
    expect(fs.inject({ kind: "bitflip", path: "/d/t", offset: 0, bit: 1 })).toBe("bitflip /d/t byte 0 bit 1");
    expect(text(fs.readFile("/d/t"))).toBe("C");
  });

  it("a lying fsync returns but persists nothing: the next crash loses the data", () => {
    const fs = disk();
    durableFile(fs, "/d/f", "old");
    fs.inject({ kind: "lying-fsync", path: "/d/f" });
    durableFile(fs, "/d/f", "new!");
    durableFile(fs, "/d/g", "honest");
    const r = fs.crash("lose-all");
    expect(r.lost).toEqual([{ path: "/d/f", bytes: 4 }]);
    expect([text(fs.readFile("/d/f")), text(fs.readFile("/d/g"))]).toEqual(["old", "honest"]);
  });
});

// ---- the engine's checkpoint write protocol on SimFs ----

const BASE = "/ckpt";
const MAXP = 128;
const payload = (id: number, sub: number): Uint8Array => snapshotPayload({ op: { keyed: [], timers: [], list: [`cp${id}-sub${sub}`] } }).toBytes();

/** Wraps a SimFs so `after(step)` runs after every Fs call: the caller clones and crashes there. */
function counting(fs: SimFs, after: (step: number, call: string) => void): Fs {
  let step = 0;
  return new Proxy(fs, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        try {
          return v.apply(target, args);
        } finally {
          after(++step, `${String(prop)}(${args.filter((a) => typeof a === "string").join(", ")})`);
        }
      };
    },
  }) as Fs;
}

function writeCheckpoint(storage: FileSystemCheckpointStorage, id: number): void {
  const handles: StateHandle[] = [0, 1].map((sub) => storage.writeState(id, { task: `op#${sub}`, vertex: "op", subtask: sub }, payload(id, sub)));
  storage.writeMetadata({ checkpointId: id, timestamp: id * 1000, savepoint: false, maxParallelism: MAXP, handles });
}

/** After a crash: everything listed reads back whole and exact; restore picks the newest; `mustHave` is listed. */
function checkAfterCrash(fs: SimFs, mustHave: number | undefined, where: string): void {
  const storage = new FileSystemCheckpointStorage(BASE, fs);
  const ids = storage.completedIds();
  for (const id of ids) {
    const meta = storage.readMetadata(id);
    for (const h of meta.handles) expect(storage.readState(id, h), where).toEqual(payload(id, h.subtask));
  }
  if (mustHave !== undefined) expect(ids[0], where).toBeGreaterThanOrEqual(mustHave);
  const point = loadLatestValid(storage, MAXP);
  expect(point?.checkpointId, where).toBe(ids[0]);
  if (point) expect(point.byUid.get("op")!.listUnion, where).toEqual([`cp${ids[0]}-sub0`, `cp${ids[0]}-sub1`]);
}

describe("FileSystemCheckpointStorage on SimFs", () => {
  it("a crash after any Fs call of the protocol leaves only whole checkpoints, and never loses a completed one", () => {
    const fs = new SimFs(new Rng("protocol"));
    fs.mkdirp(BASE);
    fs.fsyncDir("/"); // the checkpoint directory exists on the disk before the job starts
    let completed: number | undefined;
    let crashes = 0;
    let torn = 0;
    const proxy = counting(fs, (step, call) => {
      for (const seed of seeds.slice(0, 12)) {
        for (const mode of ["seeded", "lose-all"] as const) {
          const crashed = fs.clone(new Rng(`${step}/${seed}`));
          const r = crashed.crash(mode);
          torn += r.torn.length;
          checkAfterCrash(crashed, completed, `crash after step ${step} ${call} (${mode}, ${seed}): ${describeCrash(r)}`);
          crashes++;
        }
      }
    });
    const storage = new FileSystemCheckpointStorage(BASE, proxy);
    for (const id of [1, 2, 3]) {
      writeCheckpoint(storage, id);
      completed = id;
      if (id > 1) storage.discard(id - 1);
    }
    // 57 Fs calls (existence checks of the durable mkdir included), each crashed 24 ways.
    expect([crashes, torn > 5]).toEqual([24 * 57, true]);
  });

  it("a lying fsync on state files is detected at restore (fallback or refusal), never restored as valid", () => {
    for (const seed of seeds) {
      for (const withOlder of [false, true]) {
        const fs = new SimFs(new Rng(seed));
        fs.mkdirp(BASE);
        fs.fsyncDir("/");
        const storage = new FileSystemCheckpointStorage(BASE, fs);
        if (withOlder) writeCheckpoint(storage, 1);
        fs.inject({ kind: "lying-fsync", path: ".state" });
        writeCheckpoint(storage, 2);
        fs.crash();
        const after = new FileSystemCheckpointStorage(BASE, fs);
        expect(after.completedIds()).toEqual(withOlder ? [2, 1] : [2]); // _metadata was honestly synced
        if (!withOlder) {
          expect(() => loadLatestValid(after, MAXP)).toThrow(NoValidCheckpointError);
        } else {
          const point = loadLatestValid(after, MAXP)!;
          expect(point.checkpointId).toBe(1);
          expect(point.skipped.map((s) => s.checkpointId)).toEqual([2]);
          expect(point.skipped[0].reason).toMatch(/truncated|length mismatch/);
        }
      }
    }
  });

  // Found by this suite: mkdirp'd directories were never fsynced in their parents, so a
  // checkpoint completed in a fresh directory vanished in a crash. mkdirDurable fixes it.
  it("a checkpoint completed in a freshly created directory survives a crash", () => {
    const fs = new SimFs(new Rng("fresh"));
    const storage = new FileSystemCheckpointStorage(BASE, fs);
    writeCheckpoint(storage, 1); // writeMetadata returned: the checkpoint counts as complete
    const r = fs.crash("lose-all");
    expect(r.reverted).toEqual([]);
    expect(new FileSystemCheckpointStorage(BASE, fs).completedIds()).toEqual([1]);
  });
});

describe("mkdirDurable after a failed fsync", () => {
  it("makes a directory durable on the next call once its parent's fsync failed (EIO), so a power loss keeps what is written in it", () => {
    const fs = disk();
    fs.inject({ kind: "eio", op: "fsync", path: "/", occurrence: 1 });
    expect(codeOf(() => mkdirDurable(fs, "/d/job/checkpoints"))).toBe("EIO");
    expect(fs.exists("/d/job")).toBe(true); // made, but its entry is not durable
    // The retry finds /d/job existing; it must still make it durable before writing below it.
    mkdirDurable(fs, "/d/job/savepoints/chk-1");
    durableFile(fs, "/d/job/savepoints/chk-1/_metadata", "m");
    fs.crash("lose-all");
    expect(text(fs.readFile("/d/job/savepoints/chk-1/_metadata"))).toBe("m");
  });
});
