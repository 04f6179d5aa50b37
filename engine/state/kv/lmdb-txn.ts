/**
 * TransactionFlags.SYNCHRONOUS_COMMIT without ABORTABLE for every transactionSync. lmdb-js's
 * default (abortable) sync transaction holds about 13 KB of native memory until the event loop
 * turns, and a simulated job runs synchronously: measured at 600 MB after 40k flushes, against
 * a flat 86 MB with these flags.
 */
export const TXN_FLAGS = 2;
