package dev.flinch.flink.source;

import dev.flinch.flink.Trade;

import java.util.concurrent.CompletableFuture;

/**
 * Where a reader's trades come from: per symbol, in id order, without duplicates or gaps the
 * transport can repair. {@link #poll} never blocks; {@link #available} completes when it may
 * return something.
 */
interface Feed extends AutoCloseable {
    /** Starts (or resumes) a symbol at trade id {@code next} (-1: live), up to {@code until} inclusive (-1: unbounded). */
    void add(String symbol, long next, long until);

    /** The next trade of any added symbol, or null when none is ready now. */
    Trade poll() throws Exception;

    CompletableFuture<Void> available();

    @Override
    void close();
}
