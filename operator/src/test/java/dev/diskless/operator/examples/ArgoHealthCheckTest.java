package dev.diskless.operator.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/**
 * examples/argocd/health.lua, run by a Lua interpreter on cluster objects in each state ArgoCD
 * distinguishes. Also checks that the example ArgoCD Application names what ArgoCD needs.
 */
public class ArgoHealthCheckTest {

  /** What examples/argocd/health.lua says of {@code obj} (a resource as JSON maps). */
  public static Map<String, String> health(Map<String, Object> obj) throws Exception {
    Globals lua = JsePlatform.standardGlobals();
    lua.set("obj", toLua(obj));
    String script = Files.readString(ExamplesIT.dir().resolve("argocd/health.lua"));
    LuaValue result = lua.load(script, "health.lua").call();
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

  @Test
  void theApplicationExampleSyncsWithServerSideApply() throws Exception {
    String app = Files.readString(ExamplesIT.dir().resolve("argocd/application.yaml"));
    assertThat(app)
        .contains("kind: Application")
        .contains("apiVersion: argoproj.io/v1alpha1")
        .contains("ServerSideApply=true");
  }
}
