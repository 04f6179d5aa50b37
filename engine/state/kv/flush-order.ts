import type { KeyPart } from "./key-codec.ts";
import type { Slot } from "./kv-state-handles.ts";

/**
 * The order a flush writes its dirty slots in: lmdb's order, nearly. Key groups lead the lmdb
 * key, so a counting sort by key group does most of the work in linear time; inside a group
 * (a few hundred slots at most, with the default buffer) key, namespace and state name are
 * compared as values. That is the codec's byte order except where UTF-16 and UTF-8 order
 * differ (surrogates against U+E000..U+FFFF), which would cost a little locality, not
 * correctness: a flush never holds two live slots of one lmdb key, so order changes nothing
 * that is written.
 */
export class FlushOrder {
  private readonly ends: Int32Array;

  constructor(private readonly start: number, width: number) {
    this.ends = new Int32Array(width + 1);
  }

  sort(slots: readonly Slot[]): Slot[] {
    const { ends, start } = this;
    const n = slots.length;
    ends.fill(0);
    for (let j = 0; j < n; j++) ends[slots[j]!.kg - start + 1]++;
    for (let g = 1; g < ends.length; g++) ends[g] += ends[g - 1];
    // ends[g] is bucket g's first position; placing its slots moves it to the bucket's end.
    const out: Slot[] = new Array(n);
    for (let j = 0; j < n; j++) {
      const s = slots[j]!;
      out[ends[s.kg - start]++] = s;
    }
    let a = 0;
    for (let g = 0; g < ends.length - 1; g++) {
      const b = ends[g];
      if (b - a > 1) {
        const part = out.slice(a, b).sort(bySlotKey);
        for (let j = 0; j < part.length; j++) out[a + j] = part[j]!;
      }
      a = b;
    }
    return out;
  }
}

function bySlotKey(x: Slot, y: Slot): number {
  return comparePart(x.key, y.key) || comparePart(x.ns, y.ns) || comparePart(x.sb.name, y.sb.name);
}

/** Numbers before strings, as the codec's type tags sort. */
function comparePart(a: KeyPart, b: KeyPart): number {
  if (typeof a !== typeof b) return typeof a === "number" ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
