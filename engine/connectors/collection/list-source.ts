import { END_OF_INPUT, type ReaderOutput, type Source, type SourceReader, type SourceSplit } from "../../api/source.ts";

/**
 * A bounded source over in-memory lists (Flink's fromCollection, with splits): one split per
 * list, each element arriving at `arrival(element)` in virtual time (default: at once) with
 * event time `timestamp(element)`. Offsets are list positions, so it restores exactly.
 */
export class ListSource<T> implements Source<T> {
  readonly sourceName = "ListSource";
  constructor(
    private readonly lists: readonly (readonly T[])[],
    private readonly timestamp: (v: T) => number,
    private readonly arrival: (v: T) => number = () => -Infinity,
  ) {}

  isBounded(): boolean {
    return true;
  }
  createSplits(): SourceSplit[] {
    return this.lists.map((_l, i) => ({ splitId: String(i) }));
  }
  createReader(splits: SourceSplit[]): SourceReader<T> {
    const idx = splits.map((s) => Number(s.splitId));
    const pos = idx.map(() => 0);
    const { lists, timestamp, arrival } = this;
    return {
      pollNext(now: number, max: number, out: ReaderOutput<T> & { splitFinished?(i: number): void }): number {
        let next = Infinity;
        let live = 0;
        for (let k = 0; k < idx.length; k++) {
          const l = lists[idx[k]];
          while (pos[k] < l.length && max > 0 && arrival(l[pos[k]]) <= now) {
            out.collect(k, l[pos[k]], timestamp(l[pos[k]]));
            pos[k]++;
            max--;
          }
          if (pos[k] >= l.length) {
            out.splitFinished?.(k);
            continue;
          }
          live++;
          next = Math.min(next, Math.max(now, arrival(l[pos[k]])));
        }
        return live === 0 ? END_OF_INPUT : next;
      },
      snapshotState: () => idx.map((split, k) => ({ split, pos: pos[k] })),
      restoreState(entries) {
        for (const e of entries as { split: number; pos: number }[]) {
          const k = idx.indexOf(e.split);
          if (k >= 0) pos[k] = e.pos;
        }
      },
      close() {},
    };
  }
}
