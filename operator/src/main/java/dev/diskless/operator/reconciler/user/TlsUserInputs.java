package dev.diskless.operator.reconciler.user;

import dev.diskless.operator.crd.DisklessKafkaCluster;
import dev.diskless.operator.pki.CertificateAuthority;
import dev.diskless.operator.reconciler.cluster.ClientsCaDependentResource;
import dev.diskless.operator.reconciler.cluster.ClusterListeners;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * What a tls user's certificate Secret is made from: the cluster's clients CA (which signs it) and
 * the CA of the brokers' certificates (the listener Secret's {@code ca.crt}, so that clients can
 * check the brokers), taken from the mTLS listener, else the first listener with TLS.
 *
 * @param ca the cluster's clients CA
 * @param brokersCa PEM of the CA that signed the brokers' listener certificate, when a listener has
 *     TLS and its Secret holds one
 */
record TlsUserInputs(CertificateAuthority ca, Optional<String> brokersCa) {

  /** The inputs for a user of {@code clusterName}; empty while its clients CA is not there. */
  static Optional<TlsUserInputs> read(
      KubernetesClient client, String namespace, String clusterName) {
    DisklessKafkaCluster cluster =
        client
            .resources(DisklessKafkaCluster.class)
            .inNamespace(namespace)
            .withName(clusterName)
            .get();
    if (cluster == null) {
      return Optional.empty();
    }
    Secret caSecret =
        client
            .secrets()
            .inNamespace(namespace)
            .withName(ClientsCaDependentResource.name(cluster))
            .get();
    if (caSecret == null || !ClientsCaDependentResource.holdsCa(caSecret)) {
      return Optional.empty();
    }
    ClusterListeners listeners = ClusterListeners.of(cluster);
    Optional<String> listenerSecret =
        listeners.all().stream()
            .filter(ClusterListeners.Listener::clientCertificates)
            .findFirst()
            .or(() -> listeners.all().stream().filter(l -> l.tlsSecret().isPresent()).findFirst())
            .flatMap(ClusterListeners.Listener::tlsSecret);
    Optional<String> brokersCa =
        listenerSecret
            .map(name -> client.secrets().inNamespace(namespace).withName(name).get())
            .map(Secret::getData)
            .map(data -> data.get("ca.crt"))
            .map(b64 -> new String(Base64.getDecoder().decode(b64), StandardCharsets.US_ASCII));
    return Optional.of(new TlsUserInputs(ClientsCaDependentResource.read(caSecret), brokersCa));
  }
}
