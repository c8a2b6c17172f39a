package io.mproxy.sim;

/** One try of a logical request, as it travels from a simulated client through a proxy node. */
final class Attempt {

  final long id;
  final SimClient.Call call;
  final boolean write;
  boolean answered;
  boolean abandoned;
  int settles;

  Attempt(long id, SimClient.Call call, boolean write) {
    this.id = id;
    this.call = call;
    this.write = write;
  }
}
