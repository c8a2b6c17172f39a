package io.mproxy.protocol.postgres.codec;

/**
 * What a decoder emits, once, instead of a message when the bytes cannot be a valid message
 * (bad length, too large, unknown start-up code); everything after it is discarded.
 */
public record PgDecodeError(String message) {
}
