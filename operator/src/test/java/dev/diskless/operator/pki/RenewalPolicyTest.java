package dev.diskless.operator.pki;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When a user's certificate is issued again: 30 days before expiry, another CA or subject. */
class RenewalPolicyTest {

  private static final Instant NOW = Instant.parse("2027-01-10T12:00:00Z");
  private final CertificateAuthority ca = CertificateAuthority.generate("orders-clients-ca", NOW);
  private final RenewalPolicy policy = RenewalPolicy.USERS;
  private final X509Certificate alice =
      ca.issueClient("alice", policy.validity(), NOW).certificate();

  @Test
  void aFreshCertificateStaysUntilThirtyDaysAreLeft() {
    Instant renewAt = NOW.plus(Duration.ofDays(365 - 30));
    assertThat(policy.renewAt(alice)).isEqualTo(renewAt);
    assertThat(policy.reissueReason(alice, ca, "alice", NOW)).isEmpty();
    assertThat(policy.reissueReason(alice, ca, "alice", renewAt.minusSeconds(1))).isEmpty();
    assertThat(policy.reissueReason(alice, ca, "alice", renewAt))
        .hasValueSatisfying(r -> assertThat(r).contains("expires"));
  }

  @Test
  void aCertificateCappedAtTheCasEndWaitsForTheRenewedCa() {
    Instant late = NOW.plus(Duration.ofDays(3650 - 20));
    X509Certificate capped = ca.issueClient("alice", policy.validity(), late).certificate();
    assertThat(capped.getNotAfter()).isEqualTo(ca.certificate().getNotAfter());
    // Issuing again under the same CA would end at the same instant: not again and again.
    assertThat(policy.reissueReason(capped, ca, "alice", late)).isEmpty();
    // Under the renewed CA a new certificate lasts a year: issued again.
    assertThat(policy.reissueReason(capped, ca.renewed(late), "alice", late))
        .hasValueSatisfying(r -> assertThat(r).contains("expires"));
  }

  @Test
  void anotherCaOrSubjectIsIssuedAgain() {
    CertificateAuthority other = CertificateAuthority.generate("orders-clients-ca", NOW);
    assertThat(policy.reissueReason(alice, other, "alice", NOW))
        .hasValueSatisfying(r -> assertThat(r).contains("not issued by the current clients CA"));
    assertThat(policy.reissueReason(alice, ca, "bob", NOW))
        .hasValueSatisfying(
            r ->
                assertThat(r).contains("CN=alice,OU=diskless-users, not CN=bob,OU=diskless-users"));
  }
}
