package dev.diskless.broker.security;

import dev.diskless.storage.metadata.ScramCredentialStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.time.Duration;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.token.delegation.internals.DelegationTokenCache;

/**
 * The broker-wide side of SASL: the listener's mechanisms, where credentials are read (PostgreSQL,
 * once per authentication, so a changed or deleted credential applies to the next login at once)
 * and the metrics; each connection gets its own {@link SaslAuthenticator}.
 *
 * @param failureDelay how long a failed authentication waits before it is answered and the
 *     connection closed (Kafka's {@code connection.failed.authentication.delay.ms}): it slows down
 *     password guessing; repeated failures from one address wait longer ({@link FailedLogins})
 */
public record Authentication(
    SecurityConfig config,
    ScramCredentialStore credentials,
    MeterRegistry meters,
    Duration failureDelay,
    DelegationTokenCache tokens,
    FailedLogins failedLogins) {

  /** Kafka's default {@code connection.failed.authentication.delay.ms}. */
  public static final Duration DEFAULT_FAILURE_DELAY = Duration.ofMillis(100);

  /**
   * How long a connection may take to authenticate before it is closed: Kafka has only its idle
   * timeout; this keeps silent or slow connections from holding unauthenticated memory.
   */
  public static final Duration AUTHENTICATION_DEADLINE = Duration.ofSeconds(30);

  /** Largest request read before authentication (Kafka's {@code sasl.server.max.receive.size}). */
  public static final int MAX_UNAUTHENTICATED_BYTES = 512 * 1024;

  public Authentication(
      SecurityConfig config, ScramCredentialStore credentials, MeterRegistry meters) {
    this(
        config,
        credentials,
        meters,
        DEFAULT_FAILURE_DELAY,
        // Empty: no delegation tokens are issued, so a client asking for one fails as with Kafka.
        new DelegationTokenCache(ScramMechanism.mechanismNames()),
        new FailedLogins());
  }

  /**
   * The same credentials, meters and count of failed logins for another listener with its own
   * mechanisms.
   */
  public Authentication forListener(SecurityConfig listener) {
    return new Authentication(listener, credentials, meters, failureDelay, tokens, failedLogins);
  }

  /** How long to wait before answering a failed login from {@code client}. */
  Duration failureDelay(InetAddress client) {
    return failedLogins.failed(client, failureDelay, System.currentTimeMillis());
  }

  /** A new connection's authenticator. */
  public SaslAuthenticator connection(InetAddress client) {
    return new SaslAuthenticator(this, client);
  }

  void count(String mechanism, String outcome) {
    Counter.builder("diskless.sasl.authentications")
        .description("SASL authentications by mechanism and outcome")
        .tag("mechanism", mechanism)
        .tag("outcome", outcome)
        .register(meters)
        .increment();
  }
}
