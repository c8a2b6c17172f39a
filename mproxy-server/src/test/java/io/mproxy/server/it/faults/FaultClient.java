package io.mproxy.server.it.faults;

import java.util.concurrent.CompletableFuture;

/**
 * One client connection through the proxy, made with the protocol's real client library, as the
 * fault scenarios in {@link ProtocolFaultsContract} need it.
 */
interface FaultClient extends AutoCloseable {

  /**
   * A quick request that the backend must answer (never one the proxy answers itself); returns
   * the answer as text, or throws the client library's exception.
   */
  String roundTrip() throws Exception;

  /**
   * Starts a request that stays at the backend for about {@code seconds} s (a server-side sleep
   * or block), or for as long as the backend is frozen when the protocol has no sleep; the
   * future completes with the answer as text or with the client library's exception.
   */
  CompletableFuture<String> slow(int seconds);

  @Override
  void close();
}
