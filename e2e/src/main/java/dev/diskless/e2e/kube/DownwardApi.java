package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The downward API of one pod: the value a {@code fieldRef} names, for env variables and
 * downwardAPI volume items, resolved as a kubelet resolves it. A label or annotation the pod does
 * not carry is the empty string, as in a real pod: a broker's rack from {@code
 * metadata.labels['topology.kubernetes.io/zone']} is empty on a node without a zone, never an
 * error. Zone and region labels reach the pod from its Node at binding (the API server's
 * PodTopologyLabels admission), so the pod object the kubelet is handed already carries them.
 */
final class DownwardApi {

  private static final String LABELS = "metadata.labels";
  private static final String ANNOTATIONS = "metadata.annotations";

  private final Pod pod;
  private final String nodeName;
  private final String hostIp;
  private final Supplier<String> podIp;

  /**
   * {@code podIp} is read when a field is resolved: the pod's address exists only once its network
   * is attached.
   */
  DownwardApi(Pod pod, String nodeName, String hostIp, Supplier<String> podIp) {
    this.pod = pod;
    this.nodeName = nodeName;
    this.hostIp = hostIp;
    this.podIp = podIp;
  }

  /** The value of {@code fieldPath}; a path a kubelet does not accept is refused. */
  String field(String fieldPath) {
    return switch (fieldPath) {
      case "metadata.name" -> pod.getMetadata().getName();
      case "metadata.namespace" -> pod.getMetadata().getNamespace();
      case "metadata.uid" -> pod.getMetadata().getUid();
      case "spec.nodeName" ->
          pod.getSpec().getNodeName() == null ? nodeName : pod.getSpec().getNodeName();
      case "spec.serviceAccountName" -> orEmpty(pod.getSpec().getServiceAccountName());
      case "status.podIP", "status.podIPs" -> orEmpty(podIp.get());
      case "status.hostIP", "status.hostIPs" -> hostIp;
      case LABELS -> lines(pod.getMetadata().getLabels());
      case ANNOTATIONS -> lines(pod.getMetadata().getAnnotations());
      default -> {
        String label = subscript(fieldPath, LABELS);
        if (label != null) {
          yield valueOf(pod.getMetadata().getLabels(), label);
        }
        String annotation = subscript(fieldPath, ANNOTATIONS);
        if (annotation != null) {
          yield valueOf(pod.getMetadata().getAnnotations(), annotation);
        }
        throw new IllegalArgumentException("fieldRef " + fieldPath + " not supported");
      }
    };
  }

  /** The key of {@code metadata.labels['key']} (or with double quotes), or null. */
  private static String subscript(String path, String map) {
    if (!path.startsWith(map + "[") || !path.endsWith("]") || path.length() < map.length() + 4) {
      return null;
    }
    String quoted = path.substring(map.length() + 1, path.length() - 1);
    char q = quoted.charAt(0);
    if ((q != '\'' && q != '"') || quoted.charAt(quoted.length() - 1) != q) {
      return null;
    }
    return quoted.substring(1, quoted.length() - 1);
  }

  private static String valueOf(Map<String, String> map, String key) {
    return map == null ? "" : map.getOrDefault(key, "");
  }

  /** All labels or annotations, as a downwardAPI volume file holds them: key="value" lines. */
  private static String lines(Map<String, String> map) {
    if (map == null) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    new java.util.TreeMap<>(map)
        .forEach((k, v) -> out.append(k).append("=\"").append(v).append("\"\n"));
    return out.toString();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
