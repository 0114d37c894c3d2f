package dev.diskless.broker.security;

import dev.diskless.storage.metadata.ScramCredentialStore;
import dev.diskless.storage.metadata.ScramCredentialStore.Credential;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the bootstrap user's SCRAM credentials (both mechanisms) in step with its configured
 * password: stored when missing, replaced when the stored one no longer matches the password (the
 * Secret was rotated), left alone otherwise, so brokers starting together do not rewrite each
 * other's salts.
 */
public final class BootstrapUser {

  private static final Logger LOG = LoggerFactory.getLogger(BootstrapUser.class);

  /** Kafka's minimum, as kafka-configs.sh and Admin default to. */
  static final int ITERATIONS = 4096;

  private BootstrapUser() {}

  /** Stores or refreshes {@code user}'s credentials; completes when they are in place. */
  public static CompletableFuture<Void> ensure(
      ScramCredentialStore store, SecurityConfig.BootstrapUser user) {
    return store
        .ofUser(user.name())
        .thenCompose(
            existing -> {
              List<Credential> stale = new ArrayList<>();
              for (ScramMechanism m : ScramMechanism.values()) {
                boolean current =
                    existing.stream()
                        .anyMatch(
                            c ->
                                c.mechanism() == m.type()
                                    && SaslAuthenticator.passwordMatches(c, user.password()));
                if (!current) {
                  stale.add(generate(m, user));
                }
              }
              if (stale.isEmpty()) {
                return CompletableFuture.completedFuture(null);
              }
              LOG.info(
                  "storing SCRAM credentials of bootstrap user {} for {}",
                  user.name(),
                  stale.stream()
                      .map(c -> SaslAuthenticator.mechanismOfType(c.mechanism()).mechanismName())
                      .toList());
              return store.apply(List.of(), stale);
            });
  }

  private static Credential generate(ScramMechanism m, SecurityConfig.BootstrapUser user) {
    try {
      ScramCredential c = new ScramFormatter(m).generateCredential(user.password(), ITERATIONS);
      return new Credential(
          user.name(), m.type(), c.salt(), c.storedKey(), c.serverKey(), c.iterations());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
