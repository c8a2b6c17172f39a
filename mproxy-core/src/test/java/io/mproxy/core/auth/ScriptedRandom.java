package io.mproxy.core.auth;

import io.mproxy.core.time.RandomSource;
import java.util.SplittableRandom;

/**
 * A RandomSource for SCRAM tests: replays given nonce strings character by character (so the RFC
 * example messages come out exactly), then falls back to a seeded generator.
 */
final class ScriptedRandom implements RandomSource {

  private final String script;
  private final SplittableRandom fallback = new SplittableRandom(7);
  private int position;

  ScriptedRandom(String... nonces) {
    this.script = String.join("", nonces);
  }

  static ScriptedRandom seeded() {
    return new ScriptedRandom();
  }

  @Override
  public int nextInt(int bound) {
    if (position < script.length()) {
      if (bound != ScramNonces.ALPHABET.length()) {
        throw new IllegalStateException("scripted draw with bound " + bound);
      }
      int index = ScramNonces.ALPHABET.indexOf(script.charAt(position++));
      if (index < 0) {
        throw new IllegalStateException("not a nonce character: " + script.charAt(position - 1));
      }
      return index;
    }
    return fallback.nextInt(bound);
  }

  @Override
  public double nextDouble() {
    return fallback.nextDouble();
  }
}
