import type { CheckResult } from "./checkers.ts";

/**
 * A check that watches a run and ends in one CheckResult: its problems in the order found (the
 * first few: the rest mostly follow from them), or the message it passes with.
 */
export abstract class PropertyCheck {
  readonly problems: string[] = [];
  protected abstract readonly property: string;

  /** What the run showed when nothing was wrong ("12 triggers, 1 expiry: …"). */
  protected abstract passed(): string;

  protected problem(p: string): void {
    if (this.problems.length < 5) this.problems.push(p);
  }

  result(): CheckResult {
    const p = this.problems;
    return { property: this.property, valid: p.length === 0, message: p.length === 0 ? this.passed() : p.join("; ") };
  }
}
