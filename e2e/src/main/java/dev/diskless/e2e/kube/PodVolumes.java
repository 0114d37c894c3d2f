package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a pod on a {@link ProcessKubelet} is given besides its processes: its volumes as directories
 * on the node (ConfigMaps and Secrets written out, with their items; emptyDir; a claim shared by
 * the node's pods, as ReadWriteMany; hostPath; projected service-account tokens, ConfigMaps and
 * downward-API fields) and its service account's credentials as the environment a process reads
 * them from.
 */
final class PodVolumes {

  private final ProcessKubelet.NodeContext node;
  private final Pod pod;
  private final String namespace;
  private final Path dir;
  private final DownwardApi downward;

  PodVolumes(ProcessKubelet.NodeContext node, Pod pod, Path dir, DownwardApi downward) {
    this.node = node;
    this.pod = pod;
    this.namespace = pod.getMetadata().getNamespace();
    this.dir = dir;
    this.downward = downward;
  }

  /** Each volume's directory on the node, by volume name, written (or made) now. */
  Map<String, Path> mount() throws IOException {
    Map<String, Path> out = new LinkedHashMap<>();
    for (Volume v : pod.getSpec().getVolumes()) {
      Path d = dir.resolve("volumes").resolve(v.getName());
      if (v.getConfigMap() != null) {
        String name = v.getConfigMap().getName();
        ConfigMap cm =
            configMap(name).orElseThrow(() -> new IOException("ConfigMap " + name + " not found"));
        writeItems(d, cm.getData(), v.getConfigMap().getItems());
      } else if (v.getSecret() != null) {
        Secret s =
            node.client()
                .secrets()
                .inNamespace(namespace)
                .withName(v.getSecret().getSecretName())
                .get();
        if (s == null) {
          throw new IOException("Secret " + v.getSecret().getSecretName() + " not found");
        }
        writeItems(d, ContainerEnv.secretData(s), v.getSecret().getItems());
      } else if (v.getEmptyDir() != null) {
        Files.createDirectories(d);
      } else if (v.getPersistentVolumeClaim() != null) {
        // Shared between the pods of the node, as a ReadWriteMany volume is between nodes.
        d =
            node.work()
                .resolve("claims")
                .resolve(namespace + "_" + v.getPersistentVolumeClaim().getClaimName());
        Files.createDirectories(d);
      } else if (v.getHostPath() != null) {
        d = Path.of(v.getHostPath().getPath());
      } else if (v.getProjected() != null) {
        Files.createDirectories(d);
        for (VolumeProjection p : v.getProjected().getSources()) {
          if (p.getServiceAccountToken() != null) {
            Files.writeString(d.resolve(p.getServiceAccountToken().getPath()), token());
          } else if (p.getConfigMap() != null) {
            Optional<ConfigMap> cm = configMap(p.getConfigMap().getName());
            if (cm.isPresent()) {
              writeItems(d, cm.get().getData(), p.getConfigMap().getItems());
            }
          } else if (p.getDownwardAPI() != null) {
            for (var item : p.getDownwardAPI().getItems()) {
              if (item.getFieldRef() != null) {
                Files.writeString(
                    d.resolve(item.getPath()), downward.field(item.getFieldRef().getFieldPath()));
              }
            }
          }
        }
      } else {
        throw new IOException(
            "volume " + v.getName() + ": kind not supported by the process kubelet");
      }
      out.put(v.getName(), d);
    }
    return out;
  }

  private Optional<ConfigMap> configMap(String name) {
    return Optional.ofNullable(
        node.client().configMaps().inNamespace(namespace).withName(name).get());
  }

  private static void writeItems(Path d, Map<String, String> data, List<KeyToPath> items)
      throws IOException {
    Files.createDirectories(d);
    Map<String, String> values = data == null ? Map.of() : data;
    if (items == null || items.isEmpty()) {
      for (var e : values.entrySet()) {
        Files.writeString(d.resolve(e.getKey()), e.getValue());
      }
    } else {
      for (KeyToPath k : items) {
        if (values.containsKey(k.getKey())) {
          Path f = d.resolve(k.getPath());
          Files.createDirectories(f.getParent());
          Files.writeString(f, values.get(k.getKey()));
        }
      }
    }
  }

  private boolean automount() {
    if (pod.getSpec().getAutomountServiceAccountToken() != null) {
      return pod.getSpec().getAutomountServiceAccountToken();
    }
    String sa = pod.getSpec().getServiceAccountName();
    if (sa == null) {
      return false;
    }
    ServiceAccount account =
        node.client().serviceAccounts().inNamespace(namespace).withName(sa).get();
    return account != null && !Boolean.FALSE.equals(account.getAutomountServiceAccountToken());
  }

  private String token() {
    String sa =
        pod.getSpec().getServiceAccountName() == null
            ? "default"
            : pod.getSpec().getServiceAccountName();
    return node.client()
        .serviceAccounts()
        .inNamespace(namespace)
        .withName(sa)
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withExpirationSeconds(24 * 3600L)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  /**
   * In a real pod the API client reads the token file at a fixed path; a process cannot have that
   * path to itself, so fabric8 clients get the API server and token through its environment.
   */
  Map<String, String> serviceAccountEnv() {
    if (!automount()) {
      return Map.of();
    }
    return Map.of(
        "KUBERNETES_MASTER",
        node.apiServerUrlForPods(),
        "KUBERNETES_AUTH_TOKEN",
        token(),
        "KUBERNETES_TRUST_CERTIFICATES",
        "true",
        "KUBERNETES_NAMESPACE",
        namespace);
  }
}
