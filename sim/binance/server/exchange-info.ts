import { formatFixed } from "../../../engine/decimal.ts";
import type { SymbolBook } from "./exchange.ts";
import { grid } from "./market-data.ts";

/**
 * `GET /api/v3/exchangeInfo`'s symbol entry, shaped as Binance's spot API answers it (2024-25):
 * the fields clients read to derive limits (status, assets, precisions, order types,
 * permissions) and the filters. PRICE_FILTER's tickSize and LOT_SIZE's stepSize are the tape's
 * own grids (the largest power of ten dividing every price / quantity), so anything a client
 * rounds with them matches the trades it sees; the other values are Binance's for BTCUSDT.
 * MIN_NOTIONAL was replaced by NOTIONAL on Binance in 2023; both are sent, as some clients
 * still read the old one.
 */
export function symbolInfo(b: SymbolBook): Record<string, unknown> {
  const [baseAsset, quoteAsset] = splitSymbol(b.symbol);
  const g = grid(b);
  const f = formatFixed;
  return {
    symbol: b.symbol, status: "TRADING",
    baseAsset, baseAssetPrecision: 8, quoteAsset, quotePrecision: 8, quoteAssetPrecision: 8, baseCommissionPrecision: 8, quoteCommissionPrecision: 8,
    orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
    icebergAllowed: true, ocoAllowed: true, otoAllowed: true, quoteOrderQtyMarketAllowed: true, allowTrailingStop: true, cancelReplaceAllowed: true,
    isSpotTradingAllowed: true, isMarginTradingAllowed: false,
    filters: [
      { filterType: "PRICE_FILTER", minPrice: f(g.tick), maxPrice: f(g.maxPrice), tickSize: f(g.tick) },
      { filterType: "LOT_SIZE", minQty: f(g.step), maxQty: f(g.maxQty), stepSize: f(g.step) },
      { filterType: "ICEBERG_PARTS", limit: 10 },
      { filterType: "MARKET_LOT_SIZE", minQty: f(0n), maxQty: f(g.maxQty / 10n), stepSize: f(0n) },
      { filterType: "TRAILING_DELTA", minTrailingAboveDelta: 10, maxTrailingAboveDelta: 2000, minTrailingBelowDelta: 10, maxTrailingBelowDelta: 2000 },
      { filterType: "PERCENT_PRICE_BY_SIDE", bidMultiplierUp: "5", bidMultiplierDown: "0.2", askMultiplierUp: "5", askMultiplierDown: "0.2", avgPriceMins: 5 },
      { filterType: "MIN_NOTIONAL", minNotional: "5.00000000", applyToMarket: true, avgPriceMins: 5 },
      { filterType: "NOTIONAL", minNotional: "5.00000000", applyMinToMarket: true, maxNotional: "9000000.00000000", applyMaxToMarket: false, avgPriceMins: 5 },
      { filterType: "MAX_NUM_ORDERS", maxNumOrders: 200 },
      { filterType: "MAX_NUM_ALGO_ORDERS", maxNumAlgoOrders: 5 },
    ],
    permissions: [], permissionSets: [["SPOT"]],
    defaultSelfTradePreventionMode: "EXPIRE_MAKER", allowedSelfTradePreventionModes: ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
  };
}

export function rateLimits(weightLimit: number): unknown[] {
  return [
    { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: weightLimit },
    { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 100 },
    { rateLimitType: "ORDERS", interval: "DAY", intervalNum: 1, limit: 200000 },
    { rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: 61000 },
  ];
}

export function splitSymbol(s: string): [string, string] {
  for (const q of ["USDT", "FDUSD", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"]) if (s.length > q.length && s.endsWith(q)) return [s.slice(0, -q.length), q];
  return [s, ""];
}
