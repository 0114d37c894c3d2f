package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.crd.WalSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every object the operator derives from a cluster, compared with a reviewed golden file ({@code
 * golden/in-X.yaml} → {@code golden/out-X.yaml}), so that any change to what reaches the API server
 * shows up in review. Regenerate with {@code -Dgolden.update=true}.
 */
class DerivedObjectsGoldenTest {

  private static final Path DIR = Path.of("src/test/resources/golden");
  private final KubernetesSerialization yaml = new KubernetesSerialization();

  @ParameterizedTest
  @ValueSource(strings = {"minimal", "production", "zones", "secure"})
  void derivedObjectsMatchTheirGoldenFile(String name) throws Exception {
    DisklessKafkaCluster cluster =
        yaml.unmarshal(
            Files.readString(DIR.resolve("in-" + name + ".yaml")), DisklessKafkaCluster.class);
    List<HasMetadata> derived = new ArrayList<>();
    derived.add(new ServiceAccountDependentResource().desired(cluster, null));
    derived.add(new BootstrapServiceDependentResource().desired(cluster, null));
    derived.add(new HeadlessServiceDependentResource().desired(cluster, null));
    derived.add(new BrokerDisruptionBudgetDependentResource().desired(cluster, null));
    derived.add(new BrokerConfigMapDependentResource().desired(cluster, null));
    if (cluster.getSpec().wal.type == WalSpec.Type.VOLUME) {
      derived.add(new WalVolumeDependentResource().desired(cluster, null));
    }
    derived.addAll(
        new BrokerDeploymentDependentResource().desiredResources(cluster, null).values());
    StringBuilder out = new StringBuilder();
    for (HasMetadata o : derived) {
      out.append(yaml.asYaml(o));
    }
    Path golden = DIR.resolve("out-" + name + ".yaml");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, out.toString());
    }
    assertThat(Files.readString(golden))
        .as("%s changed: review, then regenerate with -Dgolden.update=true", golden)
        .isEqualTo(out.toString());
  }
}
