package dev.diskless.operator.reconciler;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.reconciler.cluster.ClusterListeners;
import dev.diskless.operator.reconciler.cluster.ClusterNames;
import dev.diskless.operator.reconciler.cluster.OperatorCredentialsDependentResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the operator reaches a cluster's Admin API: the ready broker pods' IPs on a listener it can
 * log in to (the inter-broker listener, else any with SASL and without TLS: brokers advertise pod
 * IPs, which no certificate names) as its own user from the cluster's operator-credentials Secret.
 * Blocking (API server reads): called on {@link AdminSync} threads only.
 */
public final class ClusterAdminAccess {

  /** Why the operator cannot reach the cluster, as a condition reason and message. */
  public record Refusal(String reason, String message) {}

  /**
   * Admin client settings and the cluster's listeners, or why there are none.
   *
   * @param listeners the cluster's listeners, when it exists
   */
  public record Access(
      Optional<Map<String, Object>> configs,
      Optional<Refusal> refusal,
      Optional<ClusterListeners> listeners) {
    static Access refused(String reason, String message) {
      return refused(reason, message, Optional.empty());
    }

    static Access refused(String reason, String message, Optional<ClusterListeners> listeners) {
      return new Access(Optional.empty(), Optional.of(new Refusal(reason, message)), listeners);
    }
  }

  private ClusterAdminAccess() {}

  /** How to reach the cluster now; blocking (API server reads). */
  public static Access of(KubernetesClient client, String namespace, String clusterName) {
    DisklessKafkaCluster cluster =
        client
            .resources(DisklessKafkaCluster.class)
            .inNamespace(namespace)
            .withName(clusterName)
            .get();
    if (cluster == null) {
      return Access.refused(
          "ClusterNotFound", "no DisklessKafkaCluster " + clusterName + " in " + namespace);
    }
    ClusterListeners listeners = ClusterListeners.of(cluster);
    Optional<ClusterListeners.Listener> listener =
        listeners.all().stream()
            .filter(l -> l.sasl() && l.tlsSecret().isEmpty())
            .sorted(
                (a, b) ->
                    Boolean.compare(
                        !a.name().equals(listeners.interBroker()),
                        !b.name().equals(listeners.interBroker())))
            .findFirst();
    if (listener.isEmpty()) {
      return Access.refused(
          "NoListenerForOperator",
          "cluster "
              + clusterName
              + " has no listener with scram-sha-512 or plain authentication and without tls,"
              + " which the operator logs in to as its own user",
          Optional.of(listeners));
    }
    Secret credentials =
        client
            .secrets()
            .inNamespace(namespace)
            .withName(OperatorCredentialsDependentResource.name(cluster))
            .get();
    if (credentials == null
        || credentials.getData() == null
        || !credentials.getData().containsKey(OperatorCredentialsDependentResource.PASSWORD_KEY)) {
      return Access.refused(
          "ClusterNotReady",
          "the operator's credentials for cluster " + clusterName + " are not there yet",
          Optional.of(listeners));
    }
    String user = decode(credentials.getData().getOrDefault("username", ""));
    if (user.isEmpty()) {
      user = OperatorCredentialsDependentResource.USER;
    }
    String password =
        decode(credentials.getData().get(OperatorCredentialsDependentResource.PASSWORD_KEY));
    List<String> addresses =
        client
            .pods()
            .inNamespace(namespace)
            .withLabels(ClusterNames.brokerSelector(cluster))
            .list()
            .getItems()
            .stream()
            .filter(ClusterAdminAccess::ready)
            .map(p -> p.getStatus().getPodIP() + ":" + listener.get().port())
            .sorted()
            .toList();
    if (addresses.isEmpty()) {
      return Access.refused(
          "NoBrokerReady",
          "no broker of cluster " + clusterName + " is ready",
          Optional.of(listeners));
    }
    String module =
        listener.get().mechanism().equals("PLAIN")
            ? "org.apache.kafka.common.security.plain.PlainLoginModule"
            : "org.apache.kafka.common.security.scram.ScramLoginModule";
    Map<String, Object> configs = new HashMap<>();
    configs.put("bootstrap.servers", String.join(",", addresses));
    configs.put("security.protocol", "SASL_PLAINTEXT");
    configs.put("sasl.mechanism", listener.get().mechanism());
    configs.put(
        "sasl.jaas.config",
        module
            + " required username=\""
            + quoted(user)
            + "\" password=\""
            + quoted(password)
            + "\";");
    configs.put("client.id", "diskless-operator");
    configs.put("request.timeout.ms", 10_000);
    configs.put("default.api.timeout.ms", 20_000);
    return new Access(Optional.of(configs), Optional.empty(), Optional.of(listeners));
  }

  private static boolean ready(Pod p) {
    return p.getStatus() != null
        && p.getStatus().getPodIP() != null
        && p.getMetadata().getDeletionTimestamp() == null
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }

  private static String quoted(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
