package io.mproxy.core.auth;

import io.mproxy.core.time.RandomSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * The server side of one SCRAM exchange (RFC 5802, RFC 7677), for clients logging in to mproxy over
 * PostgreSQL or MongoDB. Pure text in, text out: the protocol session frames the messages and turns
 * a {@link ScramException} into its own error. One instance per exchange; not thread-safe (a session
 * lives on one event loop).
 *
 * <p>States: {@code AWAIT_CLIENT_FIRST -> AWAIT_CLIENT_FINAL -> DONE}, or {@code FAILED} from
 * either step. Channel binding is never offered, so gs2 headers {@code n,,} and {@code y,,} are
 * accepted and {@code p=} is refused. The user name in {@code n=} may be empty (PostgreSQL takes the
 * user from the startup packet); a missing user runs a decoy exchange that fails only at the proof.
 */
public final class ScramServer {

  /** Where the server looks up a user named in the client-first message. */
  @FunctionalInterface
  public interface CredentialLookup {
    Optional<ScramCredential> find(String username);
  }

  /** Where the exchange stands. */
  public enum State { AWAIT_CLIENT_FIRST, AWAIT_CLIENT_FINAL, DONE, FAILED }

  private final ScramMechanism mechanism;
  private final ScramCredential fixed;
  private final boolean fixedIsDecoy;
  private final CredentialLookup lookup;
  private final ScramDecoys decoys;
  private final ScramNonces nonces;

  private State state = State.AWAIT_CLIENT_FIRST;
  private String username;
  private ScramCredential credential;
  private boolean doomed;
  private String gs2Header;
  private String clientFirstBare;
  private String serverFirst;
  private String nonce;

  private ScramServer(ScramMechanism mechanism, ScramCredential fixed, boolean fixedIsDecoy,
      CredentialLookup lookup, ScramDecoys decoys, ScramNonces nonces) {
    this.mechanism = mechanism;
    this.fixed = fixed;
    this.fixedIsDecoy = fixedIsDecoy;
    this.lookup = lookup;
    this.decoys = decoys;
    this.nonces = Objects.requireNonNull(nonces, "nonces");
  }

  /** An exchange against a credential known up front (PostgreSQL: the startup packet's user). */
  public static ScramServer forCredential(ScramCredential credential, ScramNonces nonces) {
    Objects.requireNonNull(credential, "credential");
    return new ScramServer(credential.mechanism(), credential, false, null, null, nonces);
  }

  public static ScramServer forCredential(ScramCredential credential, RandomSource random) {
    return forCredential(credential, ScramNonces.of(random));
  }

  /**
   * A decoy exchange for a user known up front not to exist (or not allowed to use SCRAM): it looks
   * like any other and always ends in {@code invalid-proof}. Take the decoy from {@link ScramDecoys}.
   */
  public static ScramServer forUnknownUser(ScramCredential decoy, ScramNonces nonces) {
    Objects.requireNonNull(decoy, "decoy");
    return new ScramServer(decoy.mechanism(), decoy, true, null, null, nonces);
  }

  public static ScramServer forUnknownUser(ScramCredential decoy, RandomSource random) {
    return forUnknownUser(decoy, ScramNonces.of(random));
  }

  /**
   * An exchange that looks the user up by the name in the client-first message (MongoDB). A user
   * the lookup does not know, or knows only under another mechanism, gets a decoy.
   */
  public static ScramServer withLookup(ScramMechanism mechanism, CredentialLookup lookup,
      ScramDecoys decoys, ScramNonces nonces) {
    Objects.requireNonNull(mechanism, "mechanism");
    Objects.requireNonNull(lookup, "lookup");
    Objects.requireNonNull(decoys, "decoys");
    return new ScramServer(mechanism, null, false, lookup, decoys, nonces);
  }

  public static ScramServer withLookup(ScramMechanism mechanism, CredentialLookup lookup,
      ScramDecoys decoys, RandomSource random) {
    return withLookup(mechanism, lookup, decoys, ScramNonces.of(random));
  }

  public ScramMechanism mechanism() {
    return mechanism;
  }

  public State state() {
    return state;
  }

  /** The (decoded) user name from the client-first message; null before it arrived. */
  public String username() {
    return username;
  }

  /** Whether the client proved it knows the password. */
  public boolean isAuthenticated() {
    return state == State.DONE;
  }

  /**
   * Takes the client-first message and returns the server-first message.
   *
   * @throws ScramException when the message is malformed or asks for channel binding
   * @throws IllegalStateException when called out of order
   */
  public String clientFirst(String message) throws ScramException {
    expectState(State.AWAIT_CLIENT_FIRST);
    try {
      String answer = handleClientFirst(message);
      state = State.AWAIT_CLIENT_FINAL;
      return answer;
    } catch (ScramException | RuntimeException e) {
      state = State.FAILED;
      throw e;
    }
  }

  /**
   * Takes the client-final message and returns the server-final message ({@code v=...}).
   *
   * @throws ScramException invalid-proof for a wrong password (or a decoy), and the RFC 5802 error
   *     for a malformed message, a changed nonce or a channel-binding mismatch
   * @throws IllegalStateException when called out of order
   */
  public String clientFinal(String message) throws ScramException {
    expectState(State.AWAIT_CLIENT_FINAL);
    try {
      String answer = handleClientFinal(message);
      state = State.DONE;
      return answer;
    } catch (ScramException | RuntimeException e) {
      state = State.FAILED;
      throw e;
    }
  }

  private String handleClientFirst(String message) throws ScramException {
    ScramMessages.checkLength(message);
    int flagEnd = message.indexOf(',');
    int authzEnd = flagEnd < 0 ? -1 : message.indexOf(',', flagEnd + 1);
    if (authzEnd < 0) {
      throw new ScramException(ScramError.INVALID_ENCODING, "missing gs2 header");
    }
    String flag = message.substring(0, flagEnd);
    if (flag.startsWith("p=")) {
      throw new ScramException(ScramError.CHANNEL_BINDING_NOT_SUPPORTED,
          "client requires channel binding, which is not offered");
    }
    if (!flag.equals("n") && !flag.equals("y")) {
      throw new ScramException(ScramError.INVALID_ENCODING, "bad gs2 channel-binding flag");
    }
    if (authzEnd != flagEnd + 1) {
      throw new ScramException(ScramError.OTHER_ERROR, "authorization identity is not supported");
    }
    gs2Header = message.substring(0, authzEnd + 1);
    clientFirstBare = message.substring(authzEnd + 1);
    String[] attrs = ScramMessages.split(clientFirstBare);
    if (ScramMessages.is(attrs[0], 'm')) {
      throw new ScramException(ScramError.EXTENSIONS_NOT_SUPPORTED, "mandatory extension m=");
    }
    username = ScramMessages.decodeUsername(ScramMessages.expect(attrs, 0, 'n', "username"));
    String clientNonce = ScramMessages.expect(attrs, 1, 'r', "nonce");
    if (!ScramMessages.isValidNonce(clientNonce)) {
      throw new ScramException(ScramError.INVALID_ENCODING, "bad client nonce");
    }
    chooseCredential();
    nonce = clientNonce + nonces.next();
    serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(credential.salt())
        + ",i=" + credential.iterations();
    return serverFirst;
  }

  private void chooseCredential() {
    if (fixed != null) {
      credential = fixed;
      doomed = fixedIsDecoy;
      return;
    }
    Optional<ScramCredential> found = lookup.find(username);
    if (found.isPresent() && found.get().mechanism() == mechanism) {
      credential = found.get();
      doomed = false;
    } else {
      credential = decoys.credentialFor(mechanism, username);
      doomed = true;
    }
  }

  private String handleClientFinal(String message) throws ScramException {
    ScramMessages.checkLength(message);
    int proofAt = message.lastIndexOf(",p=");
    if (proofAt < 0) {
      throw new ScramException(ScramError.INVALID_ENCODING, "missing proof (p=)");
    }
    String withoutProof = message.substring(0, proofAt);
    String[] attrs = ScramMessages.split(withoutProof);
    byte[] binding = ScramMessages.base64(
        ScramMessages.expect(attrs, 0, 'c', "channel binding"), "channel binding");
    if (!MessageDigest.isEqual(binding, gs2Header.getBytes(StandardCharsets.UTF_8))) {
      throw new ScramException(ScramError.CHANNEL_BINDINGS_DONT_MATCH,
          "channel binding does not echo the gs2 header");
    }
    String finalNonce = ScramMessages.expect(attrs, 1, 'r', "nonce");
    if (!MessageDigest.isEqual(finalNonce.getBytes(StandardCharsets.UTF_8),
        nonce.getBytes(StandardCharsets.UTF_8))) {
      throw new ScramException(ScramError.OTHER_ERROR, "nonce does not match the server-first nonce");
    }
    ScramMessages.rejectMandatoryExtension(attrs, 2);
    String proofValue = message.substring(proofAt + 3);
    if (proofValue.indexOf(',') >= 0) {
      throw new ScramException(ScramError.INVALID_ENCODING, "proof must be the last attribute");
    }
    byte[] proof = ScramMessages.base64(proofValue, "proof");
    byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
        .getBytes(StandardCharsets.UTF_8);
    if (!proofMatches(proof, authMessage)) {
      throw new ScramException(ScramError.INVALID_PROOF, "wrong password or unknown user");
    }
    byte[] serverSignature = ScramCrypto.hmac(mechanism, credential.serverKey(), authMessage);
    return "v=" + Base64.getEncoder().encodeToString(serverSignature);
  }

  private boolean proofMatches(byte[] proof, byte[] authMessage) {
    byte[] storedKey = credential.storedKey();
    if (proof.length != mechanism.keyLength()) {
      return false;
    }
    byte[] clientSignature = ScramCrypto.hmac(mechanism, storedKey, authMessage);
    byte[] clientKey = ScramCrypto.xor(proof, clientSignature);
    boolean matches = MessageDigest.isEqual(ScramCrypto.hash(mechanism, clientKey), storedKey);
    return matches && !doomed;
  }

  private void expectState(State expected) {
    if (state != expected) {
      throw new IllegalStateException("SCRAM server is " + state + ", not " + expected);
    }
  }
}
