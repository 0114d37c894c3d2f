package dev.diskless.operator.reconciler;

import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * Passwords the operator makes once and keeps in a Secret (its own user, DisklessKafkaUser users):
 * the broker stores SCRAM credentials derived from them, so a Secret that holds one is never
 * rewritten, and a desired Secret reuses the stored password.
 */
public final class GeneratedPasswords {

  private static final SecureRandom RANDOM = new SecureRandom();

  private GeneratedPasswords() {}

  /** 24 random bytes, URL-safe Base64: 192 bits, no quoting needed in a JAAS line. */
  public static String generate() {
    byte[] random = new byte[24];
    RANDOM.nextBytes(random);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  /** Whether the Secret already holds a password under {@code key}. */
  public static boolean holds(Secret secret, String key) {
    return secret.getData() != null && secret.getData().containsKey(key);
  }

  /** The stored password, else a new one. */
  public static String storedOrNew(Optional<Secret> existing, String key) {
    return existing
        .filter(s -> holds(s, key))
        .map(
            s ->
                new String(
                    Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8))
        .orElseGet(GeneratedPasswords::generate);
  }
}
