/**
 * Removes `a[i]`, keeping the order of the rest. Not `splice`: it makes an array of what it
 * removes, and the bookkeeping that calls this runs at every checkpoint (issue 11).
 */
export function removeAt<T>(a: T[], i: number): void {
  for (let j = i + 1; j < a.length; j++) a[j - 1] = a[j];
  a.pop();
}
