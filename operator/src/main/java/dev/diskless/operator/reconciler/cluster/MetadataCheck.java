package dev.diskless.operator.reconciler.cluster;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.MetadataSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

/**
 * Whether the brokers could reach their metadata database: the credentials Secret exists with both
 * keys, and the JDBC URL accepts those credentials (a {@code SELECT 1} within a few seconds). The
 * answer names what is wrong, for the MetadataReady condition.
 */
public final class MetadataCheck {

  /** The outcome, as a condition's status, reason and message. */
  public record Result(boolean reachable, String reason, String message) {}

  private static final int TIMEOUT_SECONDS = 5;

  private MetadataCheck() {}

  public static Result check(KubernetesClient client, DisklessKafkaCluster cluster) {
    MetadataSpec spec = cluster.getSpec().metadata;
    String ns = cluster.getMetadata().getNamespace();
    SecretKeys.Lookup secret =
        SecretKeys.read(
            client,
            ns,
            spec.credentialsSecret.name,
            List.of(spec.credentialsSecret.usernameKey, spec.credentialsSecret.passwordKey));
    if (!secret.found()) {
      return new Result(false, secret.failureReason(), secret.failureMessage());
    }
    String user = secret.values().get(spec.credentialsSecret.usernameKey);
    String password = secret.values().get(spec.credentialsSecret.passwordKey);
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("connectTimeout", String.valueOf(TIMEOUT_SECONDS));
    props.setProperty("socketTimeout", String.valueOf(TIMEOUT_SECONDS));
    props.setProperty("loginTimeout", String.valueOf(TIMEOUT_SECONDS));
    try (Connection c = DriverManager.getConnection(spec.jdbcUrl, props);
        Statement s = c.createStatement()) {
      s.execute("SELECT 1");
      return new Result(true, "Connected", "connected to " + spec.jdbcUrl + " as " + user);
    } catch (SQLException e) {
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      // 28000/28P01: invalid authorization or password; 3D000: no such database.
      String reason =
          state.startsWith("28")
              ? "AuthenticationFailed"
              : state.equals("3D000") ? "DatabaseNotFound" : "Unreachable";
      return new Result(false, reason, spec.jdbcUrl + ": " + e.getMessage());
    }
  }
}
