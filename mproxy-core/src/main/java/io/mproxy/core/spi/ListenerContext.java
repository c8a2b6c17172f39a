package io.mproxy.core.spi;

import io.mproxy.core.config.ListenerConfig;

/** What a protocol session can reach of the running proxy for the listener it was accepted on. */
public interface ListenerContext {

  /** The listener's current configuration (changes on reload). */
  ListenerConfig config();
}
