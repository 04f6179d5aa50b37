import type { CheckResult } from "./checkers.ts";

export const REFERENCE_PROPERTY = "committed output equals the reference run, row for row";

/**
 * DESIGN §9's second oracle: the same job on the same tape without faults. Output under faults
 * must equal it as a multiset of rows: nothing missing, nothing twice, nothing else. It needs
 * nothing from the job but determinism, so any job built with flinch's API can be checked.
 */
export function checkReference(committed: readonly string[], reference: readonly string[]): CheckResult {
  const want = new Map<string, number>();
  for (const l of reference) want.set(l, (want.get(l) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const l of committed) got.set(l, (got.get(l) ?? 0) + 1);
  const problems: string[] = [];
  let bad = 0;
  for (const [l, n] of want) {
    const g = got.get(l) ?? 0;
    if (g !== n) {
      bad++;
      if (problems.length < 5) problems.push(g === 0 ? `missing: ${l}` : g > n ? `committed ${g} times (reference ${n}): ${l}` : `committed ${g} of ${n} times: ${l}`);
    }
  }
  for (const [l, g] of got) {
    if (want.has(l)) continue;
    bad++;
    if (problems.length < 5) problems.push(`not in the reference run (${g}×): ${l}`);
  }
  return {
    property: REFERENCE_PROPERTY,
    valid: bad === 0,
    message: bad === 0 ? `${committed.length} rows, each as in the reference run` : `${bad} rows differ from the reference run: ${problems.join("; ")}${bad > problems.length ? "; …" : ""}`,
  };
}
