import { parseFixed, DecimalFormatError } from "../../engine/decimal.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import { Rng } from "../../engine/kernel/rng.ts";
import { buildTape, type Tape } from "./tape.ts";

/**
 * A seeded synthetic tape that looks enough like Binance spot trades to exercise the engine:
 * Poisson arrivals with bursts, a random-walk price on the tick size, log-normal quantities
 * on the lot size, consecutive ids. Same constraints, same tape, bit for bit.
 */

/** A value for every symbol, or one per symbol (missing symbols take the default). */
export type PerSymbol<T> = T | Readonly<Record<string, T>>;
/** 1e-8 units as a bigint, or a decimal string such as "0.01". */
export type Amount = bigint | string;

export interface TapeGeneratorConstraints {
  seed: string;
  symbols?: readonly string[];
  /** Trade time of the window's start, ms since epoch. */
  startTime?: number;
  durationMs?: number;
  /** Average trades per second over a long run, bursts included. */
  ratePerSec?: PerSymbol<number>;
  /**
   * Probability that a taker order sweeps several makers (trades in the same millisecond);
   * a sweep outside a spell also starts a high-rate spell.
   */
  burstProbability?: number;
  /** Arrival-rate multiplier during a spell; a sweep fills 2 .. 1 + burstMultiplier makers. */
  burstMultiplier?: number;
  /** Mean length of a high-rate spell. */
  burstMeanMs?: number;
  startPrice?: PerSymbol<Amount>;
  tickSize?: PerSymbol<Amount>;
  lotSize?: PerSymbol<Amount>;
  /** Parameters of ln(quantity in lots) ~ Normal(mu, sigma). */
  quantityMu?: PerSymbol<number>;
  quantitySigma?: PerSymbol<number>;
  /** Standard deviation of the per-order price step, in ticks. */
  priceStepTicks?: PerSymbol<number>;
  firstId?: PerSymbol<number>;
}

interface SymbolParams {
  symbol: string;
  rate: number;
  price: bigint;
  tick: bigint;
  lot: bigint;
  mu: number;
  sigma: number;
  step: number;
  firstId: number;
}

export interface ResolvedConstraints {
  seed: string;
  symbols: readonly string[];
  startTime: number;
  durationMs: number;
  burstProbability: number;
  burstMultiplier: number;
  burstMeanMs: number;
  perSymbol: readonly SymbolParams[];
}

/** Realistic-looking defaults; unknown symbols get a cheap-coin profile. */
const PROFILES: Record<string, { price: string; tick: string; lot: string }> = {
  BTC: { price: "61837.63", tick: "0.01", lot: "0.00001" },
  ETH: { price: "2683.80", tick: "0.01", lot: "0.0001" },
  BNB: { price: "512.30", tick: "0.1", lot: "0.001" },
  SOL: { price: "151.42", tick: "0.01", lot: "0.001" },
};
const FALLBACK = { price: "1.2345", tick: "0.0001", lot: "0.1" };

const MAX_LATENCY_MS = 200;
/** Keeps a wild sigma from producing Infinity lots; 1e12 lots is already absurd. */
const MAX_LOTS = 1e12;
const QTY_CACHE = 4096;

function fail(msg: string): never {
  throw new RangeError(`generateTape: ${msg}`);
}

function pick<T>(v: PerSymbol<T> | undefined, symbol: string, symbols: readonly string[], name: string, dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== "object" || v === null) return v as T;
  for (const k of Object.keys(v)) if (!symbols.includes(k)) fail(`${name} names "${k}", which is not among symbols [${symbols.join(", ")}]`);
  const own = (v as Record<string, T>)[symbol];
  return own === undefined ? dflt : own;
}

function amount(v: Amount, name: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v !== "string") fail(`${name} must be a bigint of 1e-8 units or a decimal string, got ${typeof v}`);
  try {
    return parseFixed(v);
  } catch (e) {
    if (e instanceof DecimalFormatError) fail(`${name}: ${e.message}`);
    throw e;
  }
}

function num(v: number, name: string, ok: (x: number) => boolean, what: string): number {
  if (typeof v !== "number" || !ok(v)) fail(`${name} must be ${what}, got ${String(v)}`);
  return v;
}

const finite = (x: number) => Number.isFinite(x);
const nonNegInt = (x: number) => Number.isSafeInteger(x) && x >= 0;

/** Fills every default and refuses bad constraints at once, before any trade is drawn. */
export function resolveConstraints(c: TapeGeneratorConstraints): ResolvedConstraints {
  if (c === null || typeof c !== "object") fail("constraints must be an object");
  if (typeof c.seed !== "string" || c.seed.length === 0) fail("seed must be a non-empty string");
  const symbols = c.symbols ?? ["BTCUSDT"];
  if (!Array.isArray(symbols) || symbols.length === 0) fail("symbols must be a non-empty array");
  for (const s of symbols) if (typeof s !== "string" || !/^[A-Z0-9]+$/.test(s)) fail(`symbol ${JSON.stringify(s)} must be upper-case letters and digits`);
  if (new Set(symbols).size !== symbols.length) fail(`symbols repeat: [${symbols.join(", ")}]`);

  const startTime = num(c.startTime ?? 1723161255000, "startTime", nonNegInt, "a non-negative integer (ms)");
  const durationMs = num(c.durationMs ?? 10 * 60_000, "durationMs", nonNegInt, "a non-negative integer (ms)");
  if (!Number.isSafeInteger(startTime + durationMs + MAX_LATENCY_MS)) fail("startTime + durationMs is too large");
  const burstProbability = num(c.burstProbability ?? 0.02, "burstProbability", (x) => x >= 0 && x < 1, "in [0, 1)");
  const burstMultiplier = num(c.burstMultiplier ?? 8, "burstMultiplier", (x) => Number.isInteger(x) && x >= 1 && x <= 1000, "an integer in [1, 1000]");
  const burstMeanMs = num(c.burstMeanMs ?? 400, "burstMeanMs", (x) => finite(x) && x > 0, "a positive number");

  const perSymbol = symbols.map((symbol): SymbolParams => {
    const prof = PROFILES[Object.keys(PROFILES).find((k) => symbol.startsWith(k)) ?? ""] ?? FALLBACK;
    const at = (name: string) => `${name}[${symbol}]`;
    const tick = amount(pick(c.tickSize, symbol, symbols, "tickSize", prof.tick), at("tickSize"));
    const lot = amount(pick(c.lotSize, symbol, symbols, "lotSize", prof.lot), at("lotSize"));
    const price = amount(pick(c.startPrice, symbol, symbols, "startPrice", prof.price), at("startPrice"));
    if (tick <= 0n) fail(`${at("tickSize")} must be positive`);
    if (lot <= 0n) fail(`${at("lotSize")} must be positive`);
    if (price <= 0n) fail(`${at("startPrice")} must be positive`);
    if (price % tick !== 0n) fail(`${at("startPrice")} ${price} units is not a multiple of tickSize ${tick} units`);
    if (price / tick > BigInt(Number.MAX_SAFE_INTEGER) / 2n) fail(`${at("startPrice")} is too many ticks`);
    return {
      symbol,
      tick,
      lot,
      price,
      rate: num(pick(c.ratePerSec, symbol, symbols, "ratePerSec", 30), at("ratePerSec"), (x) => finite(x) && x >= 0 && x <= 1e6, "in [0, 1e6]"),
      mu: num(pick(c.quantityMu, symbol, symbols, "quantityMu", 3), at("quantityMu"), finite, "finite"),
      sigma: num(pick(c.quantitySigma, symbol, symbols, "quantitySigma", 1.5), at("quantitySigma"), (x) => finite(x) && x >= 0, "finite and >= 0"),
      step: num(pick(c.priceStepTicks, symbol, symbols, "priceStepTicks", 1.5), at("priceStepTicks"), (x) => finite(x) && x >= 0, "finite and >= 0"),
      firstId: num(pick(c.firstId, symbol, symbols, "firstId", 1), at("firstId"), nonNegInt, "a non-negative integer"),
    };
  });
  return { seed: c.seed, symbols: [...symbols], startTime, durationMs, burstProbability, burstMultiplier, burstMeanMs, perSymbol };
}

/** Generates the tape; each symbol draws from its own `rng.fork(symbol)`, so adding a symbol leaves the others unchanged. */
export function generateTape(c: TapeGeneratorConstraints): Tape {
  const r = resolveConstraints(c);
  const root = new Rng(r.seed);
  const trades: Trade[] = [];
  for (const p of r.perSymbol) generateSymbol(r, p, root.fork(p.symbol), trades);
  return buildTape(trades);
}

function generateSymbol(r: ResolvedConstraints, p: SymbolParams, rng: Rng, out: Trade[]): void {
  if (p.rate === 0) return;
  const end = r.startTime + r.durationMs;
  const baseMean = 1000 / baseOrderRate(p.rate, r.burstProbability, r.burstMultiplier, r.burstMeanMs / 1000);
  const spellMean = baseMean / r.burstMultiplier;
  const symbol = p.symbol;
  let ticks = Number(p.price / p.tick);
  let priceTicks = ticks;
  let price = p.price;
  let id = p.firstId;
  let t = r.startTime;
  let spellUntil = -1;
  let lastE = 0;
  const qtyCache: (bigint | undefined)[] = new Array(QTY_CACHE);

  for (;;) {
    t += rng.exponential(t < spellUntil ? spellMean : baseMean);
    if (t >= end) break;
    const T = Math.floor(t);

    // One taker order: its side decides the flag for every fill, as on the real book.
    const isBuyerMaker = rng.chance(0.5);
    let fills = 1;
    if (rng.chance(r.burstProbability)) {
      fills = 2 + rng.int(r.burstMultiplier);
      // Only a calm market starts a spell; letting spells extend themselves would run away at high rates.
      if (t >= spellUntil) spellUntil = t + rng.exponential(r.burstMeanMs);
    }

    // E is when the exchange sent the message: shortly after T, and never earlier than
    // the previous message, because the stream delivers trades in id order.
    const latency = rng.chance(0.02) ? rng.int(MAX_LATENCY_MS + 1) : Math.min(MAX_LATENCY_MS, Math.floor(rng.exponential(2)));
    const E = Math.max(lastE, T + latency);
    lastE = E;

    // The order's price drifts by a normal step; a sweep then walks the book one tick
    // at a time, up for a buying taker (seller is maker => price falls).
    ticks = reflect(ticks + Math.round(rng.normal() * p.step));
    const dir = isBuyerMaker ? -1 : 1;
    for (let f = 0; f < fills; f++) {
      if (f > 0 && rng.chance(0.5)) ticks = reflect(ticks + dir);
      if (ticks !== priceTicks) {
        priceTicks = ticks;
        price = BigInt(ticks) * p.tick;
      }
      let lots = Math.round(Math.exp(p.mu + p.sigma * rng.normal()));
      if (lots < 1) lots = 1;
      else if (lots > MAX_LOTS) lots = MAX_LOTS;
      // Most draws are small; sharing their bigints saves two allocations per trade.
      let quantity = lots < QTY_CACHE ? qtyCache[lots] : undefined;
      if (quantity === undefined) {
        quantity = BigInt(lots) * p.lot;
        if (lots < QTY_CACHE) qtyCache[lots] = quantity;
      }
      out.push({ symbol, id: id++, price, quantity, time: T, eventTime: E, isBuyerMaker });
    }
  }
}

/**
 * The calm-market order rate b that yields `tradesPerSec` on average. Per cycle, a calm stretch
 * has 1/p orders (the last one starts the spell) lasting 1/(b p) s, and a spell of mean length d
 * has b M d orders; so orders/s = b (1 + b p M d) / (1 + b p d), increasing in b, between b and
 * b M. Each order fills 1 + p (M + 1) / 2 makers on average.
 */
export function baseOrderRate(tradesPerSec: number, p: number, m: number, d: number): number {
  const orders = tradesPerSec / (1 + (p * (m + 1)) / 2);
  const rate = (b: number) => (b * (1 + b * p * m * d)) / (1 + b * p * d);
  let lo = orders / m;
  let hi = orders;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (rate(mid) < orders) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Keeps the walk on positive prices by mirroring at one tick. */
function reflect(ticks: number): number {
  return ticks >= 1 ? ticks : Math.max(1, 2 - ticks);
}
