package io.mproxy.server.it.cassandra;

import io.mproxy.testkit.CassandraServer;

/**
 * A Cassandra node for scripts (not a test): {@code bench/idle.sh --protocol cassandra} starts
 * this class, reads the {@code ready HOST:PORT} line it prints once the node accepts logins, and
 * kills it at the end. The node is the testkit's ({@link CassandraServer#startNew()}: its own
 * child JVM, {@code PasswordAuthenticator}, superuser {@code cassandra}/{@code cassandra}), and it
 * dies with this JVM.
 */
public final class CqlServe {

  private CqlServe() {
  }

  public static void main(String[] args) throws InterruptedException {
    CassandraServer node = CassandraServer.startNew();
    System.out.println("ready " + node.address());
    System.out.flush();
    Thread.currentThread().join();
  }
}
