package dev.diskless.operator.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A Kafka user of a DisklessKafkaCluster in the same namespace: its SCRAM-SHA-512 credentials (the
 * operator generates the password into a Secret named after the user) and its ACLs, kept in step
 * with the spec through the cluster's Admin API. The user's name is the resource's name; its
 * principal {@code User:<name>}.
 */
@Group("diskless.dev")
@Version("v1alpha1")
@ShortNames("dku")
@AdditionalPrinterColumn(
    name = "Cluster",
    jsonPath = ".spec.cluster",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Secret",
    jsonPath = ".status.secret",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class DisklessKafkaUser
    extends CustomResource<DisklessKafkaUserSpec, DisklessKafkaUserStatus> implements Namespaced {}
