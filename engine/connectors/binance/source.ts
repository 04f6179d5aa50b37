import { END_OF_INPUT, type ReaderOutput, type Source, type SourceReader, type SourceReaderContext, type SourceSplit } from "../../api/source.ts";
import type { World } from "../../api/world.ts";
import { FEED_ENDED, type TradeFeed, type TradeSubscription } from "./feed.ts";
import type { Trade } from "./trade.ts";

/** Checkpointed position of one symbol: the last trade id emitted downstream. */
export interface SymbolOffset {
  readonly symbol: string;
  readonly lastId: number;
}

export interface BinanceSourceOptions {
  /** A feed of its own; otherwise the environment's world feed is used. */
  feed?: TradeFeed;
}

/**
 * Binance `@trade` source: one split per symbol. Each split emits strictly in trade-id order,
 * drops duplicates (id <= last emitted) and counts them, counts id gaps, and checkpoints the
 * last emitted id so a restore resumes at last + 1 (REST backfill, then live).
 */
export class BinanceWebSocketSource implements Source<Trade> {
  readonly sourceName = "BinanceWebSocketSource";
  readonly symbols: string[];
  private readonly feed?: TradeFeed;

  constructor(...args: (string | BinanceSourceOptions)[]) {
    const opts = (args.find((a) => typeof a === "object") ?? {}) as BinanceSourceOptions;
    this.symbols = args.filter((a): a is string => typeof a === "string").map((s) => s.toUpperCase());
    this.feed = opts.feed;
  }

  private feedOf(world: World): TradeFeed | undefined {
    return this.feed ?? world.feed;
  }

  validate(world: World): string[] {
    const p: string[] = [];
    if (this.symbols.length === 0) p.push("no symbols: new BinanceWebSocketSource(\"btcusdt\", ...)");
    const feed = this.feedOf(world);
    if (!feed) p.push("no trade feed: pass { feed } or run with a world feed (simulated tape, flinch serve, or the real exchange)");
    else {
      const served = new Set(feed.symbols());
      for (const s of this.symbols) if (!served.has(s)) p.push(`symbol ${s} is not served by the feed (it has ${[...served].join(", ") || "none"})`);
    }
    return p;
  }

  isBounded(world: World): boolean {
    return this.feedOf(world)?.bounded ?? false;
  }

  createSplits(): SourceSplit[] {
    return this.symbols.map((s) => ({ splitId: s }));
  }

  createReader(splits: SourceSplit[], ctx: SourceReaderContext): SourceReader<Trade> {
    const feed = this.feedOf(ctx.world);
    if (!feed) throw new Error("BinanceWebSocketSource: no trade feed");
    return new BinanceTradeReader(feed, splits.map((s) => s.splitId), ctx);
  }
}

class BinanceTradeReader implements SourceReader<Trade> {
  private readonly lastId: number[];
  private readonly subs: (TradeSubscription | undefined)[];
  private readonly ended: boolean[];
  private readonly buf: Trade[] = [];
  private next = 0;
  private readonly onData = () => this.ctx.wakeup();

  constructor(private readonly feed: TradeFeed, private readonly symbols: string[], private readonly ctx: SourceReaderContext) {
    this.lastId = symbols.map(() => -1);
    this.subs = symbols.map(() => undefined);
    this.ended = symbols.map(() => false);
    // A tape ends: bound the work the kernel may do while none of it arrives (a trade stamped
    // centuries ahead must not make the simulator walk there one checkpoint at a time).
    if (feed.bounded) ctx.kernel.limitIdle();
  }

  pollNext(now: number, max: number, out: ReaderOutput<Trade> & { splitFinished?(i: number): void }): number {
    const n = this.symbols.length;
    if (n === 0) return END_OF_INPUT;
    let nextAt = Infinity;
    let live = 0;
    let budget = max;
    // Rotate the first symbol so one busy symbol cannot starve the others.
    const first = this.next;
    this.next = (this.next + 1) % n;
    for (let k = 0; k < n; k++) {
      const i = (first + k) % n;
      if (this.ended[i]) continue;
      let sub = this.subs[i];
      if (!sub) {
        sub = this.subs[i] = this.feed.subscribe(this.symbols[i], this.ctx.kernel, this.lastId[i] >= 0 ? this.lastId[i] : undefined, this.onData);
      }
      // The buffer is appended to and truncated only when large: truncating it every poll frees
      // its backing store, and the next poll allocates it again.
      const buf = this.buf;
      if (buf.length > 4_096) buf.length = 0;
      const from = buf.length;
      const r = budget > 0 ? sub.poll(now, budget, buf) : now;
      if (buf.length > from) this.ctx.kernel.noteInput();
      let last = this.lastId[i];
      for (let j = from; j < buf.length; j++) {
        const t = buf[j];
        if (t.id <= last) {
          this.ctx.count("source.duplicates", 1);
          continue;
        }
        if (last >= 0 && t.id !== last + 1) this.ctx.count("source.gaps", 1);
        last = t.id;
        out.collect(i, t, t.time);
        budget--;
      }
      this.lastId[i] = last;
      if (r === FEED_ENDED) {
        this.ended[i] = true;
        out.splitFinished?.(i);
        this.ctx.trace(`split ${this.symbols[i]} ended at id ${last}`);
      } else {
        live++;
        if (r < nextAt) nextAt = r;
      }
    }
    return live === 0 ? END_OF_INPUT : nextAt;
  }

  snapshotState(): SymbolOffset[] {
    return this.symbols.map((symbol, i) => ({ symbol, lastId: this.lastId[i] }));
  }

  restoreState(entries: readonly unknown[]): void {
    for (const e of entries as SymbolOffset[]) {
      const i = this.symbols.indexOf(e.symbol);
      if (i >= 0) this.lastId[i] = e.lastId;
    }
  }

  close(): void {
    for (const s of this.subs) s?.close();
  }
}
