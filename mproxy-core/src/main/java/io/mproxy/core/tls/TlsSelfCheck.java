package io.mproxy.core.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * Runs one TLS handshake in memory against a freshly built server context before it is used.
 * Building a context does not notice a private key that belongs to another certificate (the
 * classic mistake of a rotation done in two steps); the handshake does, because the server's
 * signature then fails to verify. No socket, no event loop: a few milliseconds of CPU.
 */
final class TlsSelfCheck {

  private static final int MAX_ROUNDS = 100;

  private TlsSelfCheck() {
  }

  /** Returns {@code server} when a client completes a handshake with it; throws with the reason otherwise. */
  static SslContext verified(SslContext server) throws SSLException {
    SslContext trustAll = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
    handshake(trustAll.newEngine(ByteBufAllocator.DEFAULT, "localhost", 1), server.newEngine(ByteBufAllocator.DEFAULT));
    return server;
  }

  /** Drives a client and a server engine against each other until both are done (bounded). */
  static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
    int size = Math.max(client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
    ByteBuffer toServer = ByteBuffer.allocate(size * 4);
    ByteBuffer toClient = ByteBuffer.allocate(size * 4);
    ByteBuffer app = ByteBuffer.allocate(size * 4);
    ByteBuffer none = ByteBuffer.allocate(0);
    client.beginHandshake();
    server.beginHandshake();
    for (int i = 0; i < MAX_ROUNDS; i++) {
      if (done(client) && done(server)) {
        return;
      }
      client.wrap(none, toServer);
      runTasks(client);
      toServer.flip();
      server.unwrap(toServer, app.clear());
      toServer.compact();
      runTasks(server);
      server.wrap(none, toClient);
      runTasks(server);
      toClient.flip();
      client.unwrap(toClient, app.clear());
      toClient.compact();
      runTasks(client);
    }
    throw new SSLException("the handshake did not finish in " + MAX_ROUNDS + " rounds (client "
        + client.getHandshakeStatus() + ", server " + server.getHandshakeStatus() + ")");
  }

  private static boolean done(SSLEngine e) {
    HandshakeStatus s = e.getHandshakeStatus();
    return s == HandshakeStatus.NOT_HANDSHAKING || s == HandshakeStatus.FINISHED;
  }

  private static void runTasks(SSLEngine e) {
    Runnable task;
    while ((task = e.getDelegatedTask()) != null) {
      task.run();
    }
  }
}
