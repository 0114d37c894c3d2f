package dev.diskless.operator.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A topic of a DisklessKafkaCluster in the same namespace, declared in Git: its partitions and
 * configs kept in step with the spec through the cluster's Admin API; an existing topic of that
 * name is adopted.
 */
@Group("diskless.dev")
@Version("v1alpha1")
@ShortNames("dkt")
@AdditionalPrinterColumn(
    name = "Cluster",
    jsonPath = ".spec.cluster",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Topic",
    jsonPath = ".status.topicName",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Partitions",
    jsonPath = ".status.partitions",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class DisklessKafkaTopic
    extends CustomResource<DisklessKafkaTopicSpec, DisklessKafkaTopicStatus>
    implements Namespaced {}
