package io.mproxy.protocol.redis;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * The reply a client is owed for one command, in the order the client sent its commands. A
 * slot may receive several parts (SUBSCRIBE a b: one confirmation per channel) and is written
 * to the client once it is done and every earlier slot has been written.
 *
 * <p>Not final: the session's forwarded-command job is a slot too, so a forwarded command costs
 * one object from admission to reply.
 */
class Slot {

  private ByteBuf single;
  private List<ByteBuf> more;
  private boolean done;

  void add(ByteBuf part) {
    if (part == null) {
      return;
    }
    if (single == null && more == null) {
      single = part;
      return;
    }
    if (more == null) {
      more = new ArrayList<>(4);
      more.add(single);
      single = null;
    }
    more.add(part);
  }

  void finish() {
    done = true;
  }

  boolean done() {
    return done;
  }

  /** Hands the parts to {@code out} in order; the slot no longer owns them. */
  void drainTo(java.util.function.Consumer<ByteBuf> out) {
    if (single != null) {
      out.accept(single);
      single = null;
    }
    if (more != null) {
      more.forEach(out);
      more = null;
    }
  }

  /** Releases whatever parts the slot still holds (the client went away). */
  void release() {
    drainTo(ByteBuf::release);
  }
}
