package dev.diskless.operator.kafka;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * What the operator's tests against a {@link BrokerProcess} put in the API server around it (no
 * kubelet runs pods here): a ready pod standing for the broker at 127.0.0.1, the operator's
 * credentials as the broker knows them; and the Kafka clients they use.
 */
final class ClusterFixtures {

  private ClusterFixtures() {}

  /** A ready broker pod of {@code cluster} at 127.0.0.1: the test writes its status. */
  static void standInForTheBroker(KubernetesClient kube, String namespace, String cluster) {
    Pod pod =
        kube.pods()
            .inNamespace(namespace)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(cluster + "-broker-stand-in")
                    .withLabels(
                        Map.of(
                            "app.kubernetes.io/name", "diskless-kafka",
                            "app.kubernetes.io/instance", cluster,
                            "app.kubernetes.io/component", "broker"))
                    .endMetadata()
                    .withNewSpec()
                    .addNewContainer()
                    .withName("broker")
                    .withImage("diskless/broker")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    pod.setStatus(
        new PodStatusBuilder()
            .withPhase("Running")
            .withPodIP("127.0.0.1")
            .withConditions(new PodConditionBuilder().withType("Ready").withStatus("True").build())
            .build());
    kube.pods().inNamespace(namespace).resource(pod).updateStatus();
  }

  /**
   * The operator's credentials of cluster orders as the broker knows them (the cluster's dependent
   * keeps a Secret that already holds a password).
   */
  static void operatorCredentials(KubernetesClient kube, String namespace) {
    kube.secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("orders-operator-credentials")
                .withLabels(
                    Map.of(
                        "app.kubernetes.io/name", "diskless-kafka",
                        "app.kubernetes.io/instance", "orders",
                        "app.kubernetes.io/component", "broker",
                        "app.kubernetes.io/managed-by", "diskless-operator"))
                .endMetadata()
                .addToStringData("username", "diskless-operator")
                .addToStringData("password", BrokerProcess.OPERATOR_PASSWORD)
                .build())
        .create();
  }

  static void apply(KubernetesClient kube, String namespace, String yaml) {
    kube.resource(
            kube.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class))
        .inNamespace(namespace)
        .create();
  }

  /** A SASL/SCRAM-SHA-512 client of the listener at {@code port} logging in with {@code jaas}. */
  static Map<String, Object> scramClient(int port, String jaas) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", "127.0.0.1:" + port);
    c.put("security.protocol", "SASL_PLAINTEXT");
    c.put("sasl.mechanism", "SCRAM-SHA-512");
    c.put("sasl.jaas.config", jaas);
    c.put("request.timeout.ms", 10_000);
    c.put("default.api.timeout.ms", 20_000);
    return c;
  }

  /** A client of the listener at {@code port} logged in as the operator's user. */
  static Map<String, Object> operatorClient(int port) {
    return scramClient(
        port,
        "org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"diskless-operator\" password=\""
            + BrokerProcess.OPERATOR_PASSWORD
            + "\";");
  }

  /** The Ready condition of {@code conditions} as "status reason: message". */
  static String ready(java.util.List<io.fabric8.kubernetes.api.model.Condition> conditions) {
    var c = conditions.stream().filter(x -> x.getType().equals("Ready")).findFirst().orElseThrow();
    return c.getStatus() + " " + c.getReason() + ": " + c.getMessage();
  }

  interface Call {
    Object call() throws Exception;
  }

  /** What {@code call} failed with (an ExecutionException's cause); fails if it did not. */
  static Throwable cause(Call call) {
    try {
      call.call();
      throw new AssertionError("no failure");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      return e;
    }
  }
}
