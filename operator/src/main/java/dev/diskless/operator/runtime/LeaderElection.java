package dev.diskless.operator.runtime;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Leader election on a Lease, so that two or more operator replicas are safe: only the holder runs
 * the reconcilers, a standby takes over once the lease expires. The Quarkus Operator SDK turns it
 * on in the prod profile (a packaged operator), not in tests that run it in-process.
 */
public class LeaderElection {

  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElection(
      @ConfigProperty(name = "diskless.operator.lease.name", defaultValue = "diskless-operator")
          String name,
      // The chart passes the operator's own namespace; Role-scoped RBAC allows only that one.
      @ConfigProperty(name = "diskless.operator.lease.namespace") Optional<String> namespace,
      @ConfigProperty(name = "diskless.operator.lease.identity") Optional<String> identity,
      @ConfigProperty(name = "diskless.operator.lease.duration", defaultValue = "15s")
          Duration leaseDuration,
      @ConfigProperty(name = "diskless.operator.lease.renew-deadline", defaultValue = "10s")
          Duration renewDeadline,
      @ConfigProperty(name = "diskless.operator.lease.retry-period", defaultValue = "2s")
          Duration retryPeriod) {
    var builder =
        LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(name)
            // Two replicas on one host must not share an identity, or both would lead.
            .withIdentity(identity.orElseGet(() -> "operator-" + UUID.randomUUID()))
            .withLeaseDuration(leaseDuration)
            .withRenewDeadline(renewDeadline)
            .withRetryPeriod(retryPeriod);
    namespace.ifPresent(builder::withLeaseNamespace);
    return builder.build();
  }
}
