package io.mproxy.core.spi;

/** How a protocol opens, handshakes and probes backend connections. */
public interface BackendConnector {
}
