package dev.diskless.operator.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A Kafka-compatible cluster whose brokers keep no durable data on local disk: a Deployment of
 * brokers, a bucket for the write-ahead log and retained data, PostgreSQL for metadata. Platform
 * teams apply it with kubectl or a GitOps tool; the operator never writes its spec.
 */
@Group("diskless.dev")
@Version("v1alpha1")
@ShortNames("dkc")
@AdditionalPrinterColumn(
    name = "Brokers",
    jsonPath = ".status.readyBrokers",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Desired",
    jsonPath = ".spec.brokers.replicas",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Bootstrap",
    jsonPath = ".status.bootstrapServers",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class DisklessKafkaCluster
    extends CustomResource<DisklessKafkaClusterSpec, DisklessKafkaClusterStatus>
    implements Namespaced {}
