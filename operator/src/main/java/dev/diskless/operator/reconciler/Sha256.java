package dev.diskless.operator.reconciler;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of text as hex, where the operator compares or labels values without keeping them: a
 * registered password, a credential in a client-cache key, the rendered settings on a pod template.
 */
public final class Sha256 {

  private Sha256() {}

  /** The hex digest of {@code value}'s UTF-8 bytes. */
  public static String hex(String value) {
    return HexFormat.of().formatHex(digest(value));
  }

  /** The first {@code bytes} bytes of the digest, as hex. */
  public static String hex(String value, int bytes) {
    return HexFormat.of().formatHex(digest(value), 0, bytes);
  }

  private static byte[] digest(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
