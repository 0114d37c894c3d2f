package dev.diskless.operator.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaTopic;
import dev.diskless.operator.crd.DisklessKafkaUser;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/**
 * examples/argocd/health.lua (clusters) and health-user-topic.lua (users and topics), run by a Lua
 * interpreter on objects in each state ArgoCD distinguishes. Also checks that the example ArgoCD
 * Application names what ArgoCD needs.
 */
public class ArgoHealthCheckTest {

  /** What examples/argocd/health.lua says of {@code obj} (a cluster as JSON maps). */
  public static Map<String, String> health(Map<String, Object> obj) throws Exception {
    return run("health.lua", obj);
  }

  /** What examples/argocd/health-user-topic.lua says of {@code obj} (a user or a topic). */
  public static Map<String, String> userTopicHealth(Map<String, Object> obj) throws Exception {
    return run("health-user-topic.lua", obj);
  }

  private static Map<String, String> run(String file, Map<String, Object> obj) throws Exception {
    Globals lua = JsePlatform.standardGlobals();
    lua.set("obj", toLua(obj));
    String script = Files.readString(ExamplesIT.dir().resolve("argocd").resolve(file));
    LuaValue result = lua.load(script, file).call();
    return Map.of(
        "status", result.get("status").tojstring(), "message", result.get("message").tojstring());
  }

  private static LuaValue toLua(Object o) {
    if (o instanceof Map<?, ?> m) {
      LuaTable t = new LuaTable();
      m.forEach((k, v) -> t.set(k.toString(), toLua(v)));
      return t;
    }
    if (o instanceof List<?> l) {
      LuaTable t = new LuaTable();
      for (int i = 0; i < l.size(); i++) {
        t.set(i + 1, toLua(l.get(i)));
      }
      return t;
    }
    if (o instanceof Number n) {
      return LuaValue.valueOf(n.doubleValue());
    }
    return o == null ? LuaValue.NIL : LuaValue.valueOf(o.toString());
  }

  private static Map<String, Object> cluster(long generation, Map<String, Object> status) {
    return status == null
        ? Map.of("metadata", Map.of("generation", generation))
        : Map.of("metadata", Map.of("generation", generation), "status", status);
  }

  private static Map<String, Object> condition(String type, String status, String message) {
    return Map.of("type", type, "status", status, "message", message);
  }

  @Test
  void progressingUntilObservedAndReadyThenHealthyOrDegraded() throws Exception {
    assertThat(health(cluster(1, null))).containsEntry("status", "Progressing");
    assertThat(
            health(
                cluster(
                    2,
                    Map.of(
                        "observedGeneration",
                        1,
                        "conditions",
                        List.of(condition("Ready", "True", "3/3 brokers ready"))))))
        .containsEntry("status", "Progressing");
    assertThat(
            health(
                cluster(
                    2,
                    Map.of(
                        "observedGeneration",
                        2,
                        "conditions",
                        List.of(condition("Ready", "False", "1/3 brokers ready"))))))
        .containsEntry("status", "Progressing")
        .containsEntry("message", "1/3 brokers ready");
    assertThat(
            health(
                cluster(
                    2,
                    Map.of(
                        "observedGeneration",
                        2,
                        "conditions",
                        List.of(condition("Ready", "True", "3/3 brokers ready"))))))
        .containsEntry("status", "Healthy");
    assertThat(
            health(
                cluster(
                    2,
                    Map.of(
                        "observedGeneration",
                        2,
                        "conditions",
                        List.of(
                            condition("Ready", "False", "bucket: AccessDenied"),
                            condition("Degraded", "True", "bucket: AccessDenied"))))))
        .containsEntry("status", "Degraded")
        .containsEntry("message", "bucket: AccessDenied");
  }

  /**
   * What the operator writes when reconciling a new generation fails (ClusterStatusFactory.failed):
   * the last observed generation kept, Degraded True with why. ArgoCD must say Degraded, not wait.
   */
  @Test
  void aFailedReconcileOfANewGenerationIsDegradedNotProgressing() throws Exception {
    assertThat(
            health(
                cluster(
                    3,
                    Map.of(
                        "observedGeneration",
                        2,
                        "conditions",
                        List.of(
                            condition("Ready", "True", "3/3 brokers ready"),
                            condition("Reconciling", "True", "the last reconcile failed; retrying"),
                            condition("Degraded", "True", "Deployment refused: bad affinity"))))))
        .containsEntry("status", "Degraded")
        .containsEntry("message", "Deployment refused: bad affinity");
  }

  /** Brokers still rolling to the new settings: Ready may be True, the rollout is not done. */
  @Test
  void rollingBrokersAreProgressingEvenWhenReady() throws Exception {
    assertThat(
            health(
                cluster(
                    2,
                    Map.of(
                        "observedGeneration",
                        2,
                        "conditions",
                        List.of(
                            condition("Ready", "True", "3/3 brokers ready"),
                            condition("Reconciling", "True", "1/3 brokers updated"))))))
        .containsEntry("status", "Progressing")
        .containsEntry("message", "1/3 brokers updated");
    assertThat(
            health(
                cluster(
                    2,
                    Map.of(
                        "observedGeneration",
                        2,
                        "conditions",
                        List.of(
                            condition("Ready", "True", "3/3 brokers ready"),
                            condition("Reconciling", "False", "all brokers updated"))))))
        .containsEntry("status", "Healthy");
  }

  private static Map<String, Object> ready(String status, String reason, String message) {
    return Map.of("type", "Ready", "status", status, "reason", reason, "message", message);
  }

  private static Map<String, Object> userOrTopic(long generation, long observed, Object ready) {
    return cluster(
        generation, Map.of("observedGeneration", observed, "conditions", List.of(ready)));
  }

  /** Users and topics: Healthy when Ready for the current generation, else why not. */
  @Test
  void aUserOrTopicIsHealthyWhenReadyForItsGeneration() throws Exception {
    assertThat(userTopicHealth(cluster(1, null))).containsEntry("status", "Progressing");
    assertThat(userTopicHealth(userOrTopic(2, 2, ready("True", "InSync", "topic in step"))))
        .containsEntry("status", "Healthy")
        .containsEntry("message", "topic in step");
    // The operator has not applied the new spec yet: what Ready says is about the old one.
    assertThat(userTopicHealth(userOrTopic(3, 2, ready("True", "InSync", "topic in step"))))
        .containsEntry("status", "Progressing")
        .containsEntry("message", "Waiting for the operator to observe generation 3");
    assertThat(
            userTopicHealth(
                userOrTopic(3, 2, ready("False", "PartitionDecreaseRefused", "at least 5"))))
        .containsEntry("status", "Progressing");
    // A status without its Ready condition yet.
    assertThat(userTopicHealth(cluster(1, Map.of("observedGeneration", 1))))
        .containsEntry("status", "Progressing");
  }

  @Test
  void aUserOrTopicIsDegradedWhenReadyIsFalseForAReasonThatNeedsAPerson() throws Exception {
    for (String reason :
        List.of(
            "PartitionDecreaseRefused",
            "ConfigRefused",
            "AclsNotEnabled",
            "AdminRequestFailed",
            "ClusterNotFound",
            "NoListenerForOperator")) {
      assertThat(userTopicHealth(userOrTopic(4, 4, ready("False", reason, "why: " + reason))))
          .as(reason)
          .containsEntry("status", "Degraded")
          .containsEntry("message", "why: " + reason);
    }
  }

  /** Ready False while something that comes by itself is awaited: not a failure. */
  @Test
  void aUserOrTopicWaitingForItsClusterIsProgressing() throws Exception {
    for (String reason :
        List.of("ClusterNotReady", "NoBrokerReady", "SecretPending", "TopicPending")) {
      assertThat(userTopicHealth(userOrTopic(1, 1, ready("False", reason, "wait: " + reason))))
          .as(reason)
          .containsEntry("status", "Progressing")
          .containsEntry("message", "wait: " + reason);
    }
  }

  /** The docs and the script name the argocd-cm keys of both kinds, spelled as the CRDs are. */
  @Test
  void theUserAndTopicScriptNamesTheArgocdKeysOfBothKinds() throws Exception {
    String script = Files.readString(ExamplesIT.dir().resolve("argocd/health-user-topic.lua"));
    for (Class<? extends HasMetadata> kind :
        List.of(DisklessKafkaUser.class, DisklessKafkaTopic.class)) {
      assertThat(script)
          .contains(
              "resource.customizations.health."
                  + HasMetadata.getGroup(kind)
                  + "_"
                  + HasMetadata.getKind(kind)
                  + ":");
    }
  }

  /** The argocd-cm example holds the scripts as they are, under the key of each kind. */
  @Test
  void theArgocdConfigMapExampleCarriesEachScriptUnderItsKindsKey() throws Exception {
    Map<String, Object> cm =
        new org.yaml.snakeyaml.Yaml()
            .load(Files.readString(ExamplesIT.dir().resolve("argocd/argocd-cm.yaml")));
    @SuppressWarnings("unchecked")
    Map<String, String> data = (Map<String, String>) cm.get("data");
    String cluster = Files.readString(ExamplesIT.dir().resolve("argocd/health.lua"));
    String userTopic = Files.readString(ExamplesIT.dir().resolve("argocd/health-user-topic.lua"));
    Map<Class<? extends HasMetadata>, String> scripts =
        Map.of(
            dev.diskless.operator.crd.DisklessKafkaCluster.class, cluster,
            DisklessKafkaUser.class, userTopic,
            DisklessKafkaTopic.class, userTopic);
    assertThat(data).hasSize(scripts.size());
    scripts.forEach(
        (kind, script) ->
            assertThat(
                    data.get(
                        "resource.customizations.health."
                            + HasMetadata.getGroup(kind)
                            + "_"
                            + HasMetadata.getKind(kind)))
                .as(kind.getSimpleName())
                .isEqualTo(script));
  }

  @Test
  void theApplicationExampleSyncsWithServerSideApply() throws Exception {
    String app = Files.readString(ExamplesIT.dir().resolve("argocd/application.yaml"));
    assertThat(app)
        .contains("kind: Application")
        .contains("apiVersion: argoproj.io/v1alpha1")
        .contains("ServerSideApply=true");
  }
}
