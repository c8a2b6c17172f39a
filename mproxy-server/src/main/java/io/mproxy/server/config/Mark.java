package io.mproxy.server.config;

/** A 1-based line and column in the config file, where a key or value starts. */
record Mark(int line, int column) {

  static final Mark START = new Mark(1, 1);
}
