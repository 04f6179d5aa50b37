import seedrandom from "seedrandom";

/**
 * The only source of randomness in engine/ and sim/. One root per run; each subsystem
 * (scheduler, network, exchange, disk, nemesis) takes a child with `fork(name)`, drawn from
 * the root in a fixed order, so adding a draw in one subsystem does not shift the others.
 */
export class Rng {
  private readonly gen: seedrandom.PRNG;
  constructor(readonly seed: string) {
    this.gen = seedrandom.xor4096(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.gen();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.gen() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.gen() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.gen() < p;
  }

  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -Math.log(1 - this.gen()) * mean;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.gen();
    const v = this.gen();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A child generator whose seed depends only on this one's seed and the name. */
  fork(name: string): Rng {
    return new Rng(`${this.seed}/${name}`);
  }
}
