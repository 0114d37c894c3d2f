package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;
import java.util.TreeMap;

/**
 * What may be changed on the brokers' ServiceAccount: its annotations, which is how a cloud binds a
 * role to it for workload identity (e.g. {@code eks.amazonaws.com/role-arn}, {@code
 * iam.gke.io/gcp-service-account}, {@code azure.workload.identity/client-id}), so that the brokers
 * reach the bucket without static keys.
 */
public class ServiceAccountSpec {

  @JsonPropertyDescription(
      "Annotations of the brokers' ServiceAccount, e.g. eks.amazonaws.com/role-arn to bind a cloud"
          + " role to it (workload identity).")
  public Map<String, String> annotations = new TreeMap<>();
}
