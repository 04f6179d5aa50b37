/** Sources and sinks: Binance trades (simulated or real sockets), collections, files, print and collect sinks. */
export * from "./binance/source.ts";
export * from "./binance/trade.ts";
export * from "./binance/feed.ts";
export * from "./binance/adapters/stream-feed.ts";
export * from "./collection/list-source.ts";
export * from "./sinks/transactional-file-sink.ts";
export * from "./sinks/print-sink.ts";
export * from "./sinks/collect-sink.ts";
