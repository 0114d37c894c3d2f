package dev.diskless.broker.security;

import dev.diskless.storage.metadata.ScramCredentialStore.Credential;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeRequest;
import org.apache.kafka.common.requests.SaslHandshakeResponse;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.authenticator.CredentialCache;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.plain.internals.PlainServerCallbackHandler;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramMessages;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;
import org.apache.kafka.common.security.scram.internals.ScramServerCallbackHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's SASL exchange, as Kafka's SaslServerAuthenticator runs it (SaslHandshake v1 and
 * SaslAuthenticate, or SaslHandshake v0 and bare tokens): a handshake naming an enabled mechanism,
 * then tokens until the mechanism completes. The mechanisms are Kafka's own servers
 * (ScramSaslServer, PlainSaslServer); the credentials they check are read from PostgreSQL when the
 * client names its user, before the server sees the token, so no callback ever blocks. PLAIN is
 * checked against the user's stored SCRAM credential (SHA-512 if it has one, else SHA-256): one
 * user store for every mechanism. A failure is answered with Kafka's error and message after a
 * delay, and the connection is closed.
 *
 * <p>With {@code connections.max.reauth.ms} a session ends that long after it was authenticated
 * (KIP-368): the client is told so ({@code session_lifetime_ms}) and re-authenticates on the same
 * connection with a new SaslHandshake, the same mechanism and the same principal, as Kafka
 * requires; a connection whose session ended is closed at its next request.
 */
public final class SaslAuthenticator {

  private static final Logger LOG = LoggerFactory.getLogger(SaslAuthenticator.class);

  /** The response to send and whether to close the connection once it is written. */
  public record Outcome(AbstractResponse response, boolean close) {}

  private enum State {
    HANDSHAKE,
    AUTHENTICATE,
    COMPLETE,
    FAILED
  }

  private final Authentication auth;
  private final InetAddress client;
  private volatile State state = State.HANDSHAKE;
  private volatile KafkaPrincipal principal = KafkaPrincipal.ANONYMOUS;
  private volatile boolean rawTokens;

  /** Kafka reads one token at a time; a second one before the first is answered is refused. */
  private final AtomicBoolean inFlight = new AtomicBoolean();

  private volatile String mechanism;
  private volatile String user;
  private volatile SaslServer server;

  /** When the session ends (System.nanoTime), or 0 if it never does. */
  private volatile long sessionExpiryNanos;

  /** When the client last authenticated, or 0 before it has. */
  private volatile long authenticatedNanos;

  private volatile boolean reauthenticating;

  /** A re-authentication's handshake named this other mechanism: the next token fails. */
  private volatile String reauthMechanism;

  SaslAuthenticator(Authentication auth, InetAddress client) {
    this.auth = auth;
    this.client = client;
  }

  /** True once the client has authenticated: every API is open to it from then on. */
  public boolean complete() {
    return state == State.COMPLETE;
  }

  /** True until a handshake was accepted: only then may the client ask for ApiVersions. */
  public boolean inHandshake() {
    return state == State.HANDSHAKE;
  }

  /** True once the client has authenticated at least once on this connection. */
  public boolean authenticatedOnce() {
    return authenticatedNanos != 0;
  }

  /** Whether the session has ended ({@code nowNanos} from System.nanoTime). */
  public boolean expired(long nowNanos) {
    long expiry = sessionExpiryNanos;
    return state == State.COMPLETE && expiry != 0 && nowNanos - expiry > 0;
  }

  /**
   * Whether a SaslHandshake now starts a re-authentication: sessions end, and the last
   * authentication was at least a second ago (as Kafka; otherwise the handshake is refused).
   */
  public boolean mayReauthenticate(long nowNanos) {
    return state == State.COMPLETE
        && sessionExpiryNanos != 0
        && nowNanos - authenticatedNanos >= TimeUnit.SECONDS.toNanos(1);
  }

  /** Notes that the connection is closed because its session ended. */
  public void closedExpired() {
    auth.count(mechanism, "expired");
    LOG.info(
        "{} from {}: SASL session expired without re-authentication; closing", principal, client);
  }

  /** Who the client authenticated as; ANONYMOUS until then. */
  public KafkaPrincipal principal() {
    return principal;
  }

  /** SaslHandshake: chooses the mechanism. */
  public synchronized CompletableFuture<Outcome> handshake(
      SaslHandshakeRequest request, short version) {
    List<String> enabled = auth.config().mechanisms();
    String requested = request.data().mechanism();
    if (state == State.COMPLETE && mayReauthenticate(System.nanoTime()) && version > 0) {
      // KIP-368: a new exchange on the same connection; its mechanism must not change, which
      // Kafka tells at the next token.
      reauthenticating = true;
      reauthMechanism = requested.equals(mechanism) ? null : requested;
      server = null;
      user = null;
      state = State.AUTHENTICATE;
      return answer(handshakeResponse(Errors.NONE, enabled), false);
    }
    if (state != State.HANDSHAKE) {
      return answer(handshakeResponse(Errors.ILLEGAL_SASL_STATE, enabled), true);
    }
    if (!enabled.contains(requested)) {
      state = State.FAILED;
      // The client's text is neither a metric tag nor logged whole.
      auth.count("unsupported", "unsupported-mechanism");
      LOG.info(
          "SASL handshake from {} asked for mechanism {}, enabled are {}; closing",
          client,
          printable(requested),
          enabled);
      return answer(handshakeResponse(Errors.UNSUPPORTED_SASL_MECHANISM, enabled), true);
    }
    mechanism = requested;
    // v0: the tokens follow without Kafka's framing; v1: inside SaslAuthenticate requests.
    rawTokens = version == 0;
    state = State.AUTHENTICATE;
    return answer(handshakeResponse(Errors.NONE, enabled), false);
  }

  /**
   * True while the client, after SaslHandshake v0, sends bare tokens: the next frame is one, not a
   * request.
   */
  public boolean expectsRawToken() {
    return rawTokens && state == State.AUTHENTICATE;
  }

  /**
   * One token of the mechanism's exchange (a SaslAuthenticate request's bytes, or a bare token
   * after SaslHandshake v0). An outcome without a response means: close the connection unanswered.
   */
  public CompletableFuture<Outcome> authenticate(byte[] token) {
    State now = state;
    if (now != State.AUTHENTICATE) {
      return answer(
          new SaslAuthenticateResponse(
              new SaslAuthenticateResponseData()
                  .setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                  .setErrorMessage(
                      now == State.COMPLETE
                          ? "SaslAuthenticate request received after successful authentication"
                          : "Unexpected SaslAuthenticate request with state " + now)),
          // After authentication Kafka answers and keeps serving (no re-authentication here).
          now != State.COMPLETE);
    }
    if (!inFlight.compareAndSet(false, true)) {
      state = State.FAILED;
      return answer(
          new SaslAuthenticateResponse(
              new SaslAuthenticateResponseData()
                  .setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                  .setErrorMessage(
                      "Unexpected SaslAuthenticate request before the previous one was answered")),
          true);
    }
    if (reauthMechanism != null) {
      return fail(new SaslAuthenticationException(
              "SASL mechanism '"
                  + printable(reauthMechanism)
                  + "' requested by client is not supported for re-authentication of"
                  + " mechanism '"
                  + mechanism
                  + "'"))
          .whenComplete((o, t) -> inFlight.set(false));
    }
    CompletableFuture<Void> ready;
    if (server == null) {
      try {
        ready = prepare(token);
      } catch (SaslException | SaslAuthenticationException e) {
        return fail(e).whenComplete((o, t) -> inFlight.set(false));
      }
    } else {
      ready = CompletableFuture.completedFuture(null);
    }
    return ready
        .handle((v, t) -> t)
        .thenCompose(t -> t == null ? evaluate(token) : unavailable(t))
        .whenComplete((o, t) -> inFlight.set(false));
  }

  /**
   * The credentials could not be read (PostgreSQL unreachable): the connection is closed without an
   * answer, so the client retries as after a network error rather than reporting a wrong password
   * to its application.
   */
  private CompletableFuture<Outcome> unavailable(Throwable t) {
    state = State.FAILED;
    auth.count(mechanism, "unavailable");
    LOG.warn(
        "SASL authentication from {} with {}: cannot prepare it ({}); closing the connection",
        client,
        mechanism,
        t.toString());
    return CompletableFuture.completedFuture(new Outcome(null, true));
  }

  /** Reads the named user's credentials and builds the mechanism's server around them. */
  private CompletableFuture<Void> prepare(byte[] firstToken) throws SaslException {
    if (mechanism.equals("PLAIN")) {
      // A malformed message is PlainSaslServer's to refuse, with its own message.
      Optional<String> named = plainUser(firstToken);
      user = named.orElse(null);
      CompletableFuture<List<Credential>> credentials =
          named.isPresent()
              ? auth.credentials().ofUser(named.get())
              : CompletableFuture.completedFuture(List.of());
      return credentials.thenAccept(c -> server = new PlainSaslServer(new StoredPlainCheck(c)));
    }
    ScramMechanism scram = ScramMechanism.forMechanismName(mechanism);
    String name =
        ScramFormatter.username(new ScramMessages.ClientFirstMessage(firstToken).saslName());
    user = name;
    return auth.credentials()
        .ofUser(name)
        .thenAccept(
            credentials -> {
              CredentialCache.Cache<ScramCredential> cache =
                  new CredentialCache().createCache(mechanism, ScramCredential.class);
              credentials.stream()
                  .filter(c -> c.mechanism() == scram.type())
                  .findFirst()
                  .ifPresent(
                      c ->
                          cache.put(
                              name,
                              new ScramCredential(
                                  c.salt(), c.storedKey(), c.serverKey(), c.iterations())));
              ScramServerCallbackHandler handler =
                  new ScramServerCallbackHandler(cache, auth.tokens());
              handler.configure(Map.of(), mechanism, List.of());
              try {
                server = new ScramSaslServer(scram, Map.of(), handler);
              } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
              }
            });
  }

  /**
   * Runs one token through the mechanism's server. One token is in flight at a time, so no lock is
   * held while a PLAIN password is hashed.
   */
  private CompletableFuture<Outcome> evaluate(byte[] token) {
    byte[] reply;
    try {
      reply = server.evaluateResponse(token);
    } catch (SaslException | SaslAuthenticationException e) {
      return fail(e);
    }
    long lifetimeMs = 0;
    if (server.isComplete()) {
      KafkaPrincipal authenticated =
          new KafkaPrincipal(KafkaPrincipal.USER_TYPE, server.getAuthorizationID());
      if (reauthenticating && !authenticated.equals(principal)) {
        return fail(
            new SaslAuthenticationException(
                "Cannot change principals during re-authentication from "
                    + principal
                    + ": "
                    + authenticated));
      }
      principal = authenticated;
      long now = System.nanoTime();
      lifetimeMs = auth.config().maxReauth().toMillis();
      authenticatedNanos = now;
      sessionExpiryNanos = lifetimeMs > 0 ? now + TimeUnit.MILLISECONDS.toNanos(lifetimeMs) : 0;
      auth.count(mechanism, reauthenticating ? "reauthenticated" : "success");
      LOG.debug(
          "{} {} from {} with {}",
          principal,
          reauthenticating ? "re-authenticated" : "authenticated",
          client,
          mechanism);
      reauthenticating = false;
      state = State.COMPLETE;
    }
    return answer(
        new SaslAuthenticateResponse(
            new SaslAuthenticateResponseData()
                .setErrorCode(Errors.NONE.code())
                .setAuthBytes(reply == null ? new byte[0] : reply)
                // 0 until complete, and when sessions never end.
                .setSessionLifetimeMs(lifetimeMs)),
        false);
  }

  /**
   * Kafka's answer to a failed exchange: the mechanism's own message for a bad PLAIN login or
   * authorization id, a fixed one for anything else (never the exception's text), after a delay.
   */
  private CompletableFuture<Outcome> fail(Exception e) {
    state = State.FAILED;
    auth.count(mechanism, "failure");
    // Kafka's SaslAuthenticationException messages are fixed texts; any other exception's message
    // may quote the client's token (a password), so only its class is logged.
    String message =
        e instanceof SaslAuthenticationException
            ? e.getMessage()
            : "Authentication failed during "
                + (reauthenticating ? "re-authentication" : "authentication")
                + " due to invalid credentials with SASL mechanism "
                + mechanism;
    LOG.info(
        "SASL authentication failed: user={} client={} mechanism={}: {}",
        user == null ? null : printable(user),
        client,
        mechanism,
        e instanceof SaslAuthenticationException ? message : e.getClass().getSimpleName());
    Outcome outcome =
        new Outcome(
            new SaslAuthenticateResponse(
                new SaslAuthenticateResponseData()
                    .setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code())
                    .setErrorMessage(message)),
            true);
    return CompletableFuture.supplyAsync(
        () -> outcome,
        CompletableFuture.delayedExecutor(
            auth.failureDelay(client).toMillis(), TimeUnit.MILLISECONDS));
  }

  private static CompletableFuture<Outcome> answer(AbstractResponse response, boolean close) {
    return CompletableFuture.completedFuture(new Outcome(response, close));
  }

  private static SaslHandshakeResponse handshakeResponse(Errors error, List<String> enabled) {
    return new SaslHandshakeResponse(
        new SaslHandshakeResponseData().setErrorCode(error.code()).setMechanisms(enabled));
  }

  /**
   * The authentication id of a PLAIN message ({@code authzid NUL authcid NUL password}), if it is
   * well formed.
   */
  private static Optional<String> plainUser(byte[] token) {
    String[] parts = new String(token, StandardCharsets.UTF_8).split("\u0000", -1);
    return parts.length == 3 && !parts[1].isEmpty() ? Optional.of(parts[1]) : Optional.empty();
  }

  /** A client-supplied name as it may go into a log line: short, one line. */
  private static String printable(String s) {
    String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  /**
   * PLAIN's password check against the stored SCRAM credential: the password is salted and hashed
   * as SCRAM would and compared with the stored key in constant time.
   */
  private static final class StoredPlainCheck extends PlainServerCallbackHandler {
    private final List<Credential> credentials;

    StoredPlainCheck(List<Credential> credentials) {
      this.credentials = credentials;
    }

    @Override
    protected boolean authenticate(String username, char[] password) {
      Optional<Credential> stored =
          credentials.stream()
              .filter(c -> c.user().equals(username))
              .max(java.util.Comparator.comparingInt(Credential::mechanism));
      if (stored.isEmpty()) {
        return false;
      }
      return passwordMatches(stored.get(), new String(password));
    }
  }

  /**
   * Whether {@code password}, salted and hashed as SCRAM does, gives the credential's stored key
   * (compared in constant time).
   */
  static boolean passwordMatches(Credential c, String password) {
    try {
      ScramFormatter f = new ScramFormatter(mechanismOfType(c.mechanism()));
      byte[] salted = f.saltedPassword(password, c.salt(), c.iterations());
      return MessageDigest.isEqual(f.storedKey(f.clientKey(salted)), c.storedKey());
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }

  /** The SCRAM mechanism stored under {@code type} (Kafka's ScramMechanism type: 1 or 2). */
  static ScramMechanism mechanismOfType(byte type) {
    for (ScramMechanism m : ScramMechanism.values()) {
      if (m.type() == type) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown SCRAM mechanism type " + type);
  }
}
