package io.mproxy.core.admission;

/** Where requests come from, for metric labels: the listener and its protocol. */
public record Origin(String listener, String protocol) {
}
