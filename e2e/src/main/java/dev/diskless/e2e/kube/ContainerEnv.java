package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * A container's environment, resolved as a kubelet resolves it: {@code envFrom} ConfigMaps and
 * Secrets (with their prefix) first, then {@code env} in order, each a plain value with {@code
 * $(VAR)} references to earlier variables expanded, or a {@code fieldRef} ({@link DownwardApi}), a
 * {@code secretKeyRef} or a {@code configMapKeyRef}. A missing key of a reference that is not
 * optional fails the container's start (CreateContainerConfigError), as it does in a cluster.
 */
final class ContainerEnv {

  private final KubernetesClient client;
  private final String namespace;
  private final DownwardApi downward;

  ContainerEnv(KubernetesClient client, String namespace, DownwardApi downward) {
    this.client = client;
    this.namespace = namespace;
    this.downward = downward;
  }

  /**
   * Adds the container's {@code envFrom} and {@code env} to {@code env}; {@code mapPaths} turns
   * in-container paths in a value into host paths.
   */
  void resolve(Container spec, Map<String, String> env, UnaryOperator<String> mapPaths)
      throws IOException {
    for (EnvFromSource from : spec.getEnvFrom()) {
      String prefix = from.getPrefix() == null ? "" : from.getPrefix();
      if (from.getConfigMapRef() != null) {
        ConfigMap cm =
            client
                .configMaps()
                .inNamespace(namespace)
                .withName(from.getConfigMapRef().getName())
                .get();
        if (cm != null && cm.getData() != null) {
          cm.getData().forEach((k, v) -> env.put(prefix + k, v));
        }
      }
      if (from.getSecretRef() != null) {
        Secret s =
            client.secrets().inNamespace(namespace).withName(from.getSecretRef().getName()).get();
        if (s != null) {
          secretData(s).forEach((k, v) -> env.put(prefix + k, v));
        }
      }
    }
    for (EnvVar e : spec.getEnv()) {
      env.put(e.getName(), mapPaths.apply(expand(value(e), env)));
    }
  }

  private String value(EnvVar e) throws IOException {
    if (e.getValueFrom() == null) {
      return e.getValue() == null ? "" : e.getValue();
    }
    var from = e.getValueFrom();
    if (from.getFieldRef() != null) {
      return downward.field(from.getFieldRef().getFieldPath());
    }
    if (from.getSecretKeyRef() != null) {
      var ref = from.getSecretKeyRef();
      Secret s = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
      String v = s == null ? null : secretData(s).get(ref.getKey());
      return required(v, ref.getOptional(), "secret " + ref.getName() + " key " + ref.getKey());
    }
    if (from.getConfigMapKeyRef() != null) {
      var ref = from.getConfigMapKeyRef();
      ConfigMap cm = client.configMaps().inNamespace(namespace).withName(ref.getName()).get();
      String v = cm == null || cm.getData() == null ? null : cm.getData().get(ref.getKey());
      return required(v, ref.getOptional(), "configmap " + ref.getName() + " key " + ref.getKey());
    }
    throw new IOException("env " + e.getName() + ": valueFrom kind not supported");
  }

  private static String required(String value, Boolean optional, String what) throws IOException {
    if (value == null && !Boolean.TRUE.equals(optional)) {
      throw new IOException("CreateContainerConfigError: " + what + " not found");
    }
    return value == null ? "" : value;
  }

  /** A Secret's values, decoded: {@code data} (base64) and {@code stringData}. */
  static Map<String, String> secretData(Secret s) {
    Map<String, String> out = new TreeMap<>();
    if (s.getData() != null) {
      s.getData()
          .forEach(
              (k, v) ->
                  out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (s.getStringData() != null) {
      out.putAll(s.getStringData());
    }
    return out;
  }

  /** $(VAR) references to earlier variables, as the kubelet expands them. */
  static String expand(String s, Map<String, String> env) {
    if (s == null || !s.contains("$(")) {
      return s;
    }
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < s.length()) {
      int start = s.indexOf("$(", i);
      if (start < 0) {
        out.append(s, i, s.length());
        break;
      }
      int end = s.indexOf(')', start);
      if (end < 0) {
        out.append(s, i, s.length());
        break;
      }
      String var = s.substring(start + 2, end);
      out.append(s, i, start).append(env.getOrDefault(var, "$(" + var + ")"));
      i = end + 1;
    }
    return out.toString();
  }
}
