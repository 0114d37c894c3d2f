package dev.diskless.operator.pki;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * When an issued client certificate must be issued again: it was signed by another CA (the CA
 * Secret was deleted and made anew), names another subject, or has less than {@link #renewBefore}
 * left and a new one would last longer (one capped at the CA's end is not issued again and again:
 * the CA is renewed a year before its end). Clients that re-read their Secret pick the new one up
 * long before the old one expires.
 *
 * @param validity how long a new certificate is valid
 * @param renewBefore how long before expiry a certificate is replaced
 */
public record RenewalPolicy(Duration validity, Duration renewBefore) {

  /** DisklessKafkaUser certificates: valid one year, replaced with 30 days left. */
  public static final RenewalPolicy USERS =
      new RenewalPolicy(Duration.ofDays(365), Duration.ofDays(30));

  public RenewalPolicy {
    if (renewBefore.compareTo(validity) >= 0) {
      throw new IllegalArgumentException("renewBefore must be shorter than the validity");
    }
  }

  /** Why {@code certificate} must be issued again now, or empty when it may stay. */
  public Optional<String> reissueReason(
      X509Certificate certificate, CertificateAuthority ca, String commonName, Instant now) {
    if (!ca.signed(certificate)) {
      return Optional.of("it was not issued by the current clients CA");
    }
    String subject = certificate.getSubjectX500Principal().getName();
    String expected = CertificateAuthority.userSubject(commonName);
    if (!subject.equals(expected)) {
      return Optional.of("its subject is " + subject + ", not " + expected);
    }
    Instant renewAt = renewAt(certificate);
    boolean longerWithNew =
        ca.certificate().getNotAfter().toInstant().isAfter(certificate.getNotAfter().toInstant());
    if (!now.isBefore(renewAt) && longerWithNew) {
      return Optional.of(
          "it expires at " + certificate.getNotAfter().toInstant() + ", within " + renewBefore);
    }
    return Optional.empty();
  }

  /** When {@code certificate} is replaced. */
  public Instant renewAt(X509Certificate certificate) {
    return certificate.getNotAfter().toInstant().minus(renewBefore);
  }
}
