package dev.diskless.operator.reconciler.cluster;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads named keys of a Secret in a cluster's namespace for the operator's checks, or says which is
 * missing (reasons SecretNotFound / SecretKeyMissing, for a condition).
 */
final class SecretKeys {

  /** The values by key, or why they could not be read. */
  record Lookup(Map<String, String> values, String failureReason, String failureMessage) {
    boolean found() {
      return failureReason == null;
    }
  }

  private SecretKeys() {}

  static Lookup read(KubernetesClient client, String namespace, String name, List<String> keys) {
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null) {
      return new Lookup(
          Map.of(), "SecretNotFound", "Secret " + name + " not found in namespace " + namespace);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (String key : keys) {
      String v = value(secret, key);
      if (v == null) {
        return new Lookup(Map.of(), "SecretKeyMissing", "Secret " + name + " has no key " + key);
      }
      values.put(key, v);
    }
    return new Lookup(values, null, null);
  }

  private static String value(Secret secret, String key) {
    if (secret.getData() != null && secret.getData().containsKey(key)) {
      return new String(
          Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }
    return secret.getStringData() == null ? null : secret.getStringData().get(key);
  }
}
