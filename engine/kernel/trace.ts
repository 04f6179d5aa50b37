import { createHash, type Hash } from "node:crypto";

/**
 * The canonical record of a run: one line per decision that matters (deliveries, watermarks,
 * window firings, checkpoints, faults, restarts). Same (scenario, seed) must give the same
 * lines, so `hash` is the determinism check. Lines are kept only when asked, for failing runs.
 */
export class Trace {
  private readonly sha: Hash = createHash("sha256");
  private readonly kept: string[] | undefined;
  private n = 0;

  constructor(keepLines = false) {
    this.kept = keepLines ? [] : undefined;
  }

  private pending = "";

  line(time: number, what: string): void {
    const l = `${time} ${what}\n`;
    // Hashing in 64 KiB chunks costs a fraction of one update per line; the digest is the same.
    this.pending += l;
    if (this.pending.length > 65_536) {
      this.sha.update(this.pending);
      this.pending = "";
    }
    this.kept?.push(l);
    this.n++;
  }

  get length(): number {
    return this.n;
  }

  lines(): readonly string[] {
    return this.kept ?? [];
  }

  /** Finalizes the hash; call once, at the end of the run. */
  hash(): string {
    if (this.pending) {
      this.sha.update(this.pending);
      this.pending = "";
    }
    return this.sha.copy().digest("hex");
  }
}
