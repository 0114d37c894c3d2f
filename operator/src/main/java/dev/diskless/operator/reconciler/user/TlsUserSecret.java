package dev.diskless.operator.reconciler.user;

import dev.diskless.operator.pki.CertificateAuthority;
import dev.diskless.operator.pki.Pem;
import dev.diskless.operator.pki.RenewalPolicy;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The data of a tls user's Secret: {@code user.crt} (its certificate, {@code CN=<user>}, signed by
 * the cluster's clients CA), {@code user.key} (its key, unencrypted PKCS#8 PEM, as Kafka's {@code
 * ssl.keystore.type=PEM} reads it) and {@code ca.crt} (the CA of the brokers' certificates). A
 * certificate and key are kept as long as {@link RenewalPolicy#USERS} allows, and issued anew
 * otherwise.
 */
final class TlsUserSecret {

  static final String CERTIFICATE = "user.crt";
  static final String KEY = "user.key";
  static final String BROKERS_CA = "ca.crt";

  private TlsUserSecret() {}

  /** The Secret's data (Base64), keeping the certificate of {@code existing} while it is good. */
  static Map<String, String> data(
      String user, Optional<Secret> existing, TlsUserInputs inputs, Instant now) {
    Map<String, String> data = new HashMap<>();
    Optional<Secret> keep = existing.filter(s -> certificateGood(s, user, inputs.ca(), now));
    if (keep.isPresent()) {
      data.put(CERTIFICATE, keep.get().getData().get(CERTIFICATE));
      data.put(KEY, keep.get().getData().get(KEY));
    } else {
      CertificateAuthority.Issued issued =
          inputs.ca().issueClient(user, RenewalPolicy.USERS.validity(), now);
      data.put(CERTIFICATE, base64(Pem.certificate(issued.certificate())));
      data.put(KEY, base64(Pem.privateKey(issued.key())));
    }
    inputs.brokersCa().ifPresent(ca -> data.put(BROKERS_CA, base64(ca)));
    return data;
  }

  /** Whether {@code actual} is what {@link #data} would keep: a good certificate, current CA. */
  static boolean upToDate(Secret actual, String user, TlsUserInputs inputs, Instant now) {
    Map<String, String> d = actual.getData();
    return d != null
        && d.keySet().stream()
            .allMatch(k -> k.equals(CERTIFICATE) || k.equals(KEY) || k.equals(BROKERS_CA))
        && certificateGood(actual, user, inputs.ca(), now)
        && Objects.equals(
            Optional.ofNullable(d.get(BROKERS_CA)), inputs.brokersCa().map(TlsUserSecret::base64));
  }

  /** The certificate a Secret holds, if it holds one that can be read. */
  static Optional<X509Certificate> certificate(Secret secret) {
    if (secret == null || secret.getData() == null || !secret.getData().containsKey(CERTIFICATE)) {
      return Optional.empty();
    }
    try {
      return Pem.certificates(decode(secret.getData().get(CERTIFICATE))).stream().findFirst();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static boolean certificateGood(
      Secret secret, String user, CertificateAuthority ca, Instant now) {
    if (secret.getData() == null || !secret.getData().containsKey(KEY)) {
      return false;
    }
    return certificate(secret)
        .filter(c -> RenewalPolicy.USERS.reissueReason(c, ca, user, now).isEmpty())
        .isPresent();
  }

  static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.US_ASCII);
  }
}
