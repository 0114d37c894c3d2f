package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What kube-proxy does, in user space: each Service ClusterIP:port accepts connections (the address
 * is put on the node's loopback) and relays each to a ready endpoint from the Service's
 * EndpointSlices, round robin. Endpoints are re-read every half second.
 */
public final class ServiceProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceProxy.class);

  private final KubernetesClient client;
  private final PodNetwork network;
  private final Map<String, TcpForwarder> forwarders = new ConcurrentHashMap<>();
  private volatile Map<String, List<InetSocketAddress>> endpoints = Map.of();
  private final AtomicInteger roundRobin = new AtomicInteger();
  private volatile boolean running = true;
  private final Thread loop;

  public ServiceProxy(KubernetesClient client, PodNetwork network) {
    this.client = client;
    this.network = network;
    loop = Thread.ofVirtual().name("service-proxy").start(this::run);
  }

  private void run() {
    while (running) {
      try {
        sync();
      } catch (Exception e) {
        if (running) {
          LOG.warn("service proxy sync: {}", e.toString());
        }
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void sync() throws IOException {
    Map<String, List<InetSocketAddress>> next = new HashMap<>();
    // On the loopback network the slices hold no endpoints (see readyPods): not worth reading.
    List<EndpointSlice> slices =
        network.exposesLoopback()
            ? List.of()
            : client.discovery().v1().endpointSlices().inAnyNamespace().list().getItems();
    List<Service> services = client.services().inAnyNamespace().list().getItems();
    List<String> wanted = new ArrayList<>();
    for (Service s : services) {
      String ip = s.getSpec().getClusterIP();
      if (ip == null || ip.isEmpty() || "None".equals(ip)) {
        continue;
      }
      String ns = s.getMetadata().getNamespace();
      String name = s.getMetadata().getName();
      for (ServicePort port : s.getSpec().getPorts()) {
        if (port.getProtocol() != null && !"TCP".equals(port.getProtocol())) {
          continue;
        }
        String key = ip + ":" + port.getPort();
        wanted.add(key);
        next.put(
            key,
            network.exposesLoopback()
                ? readyPods(s, port)
                : ready(slices, ns, name, port.getName()));
        if (!forwarders.containsKey(key)) {
          forwarders.put(
              key, new TcpForwarder(network.serviceAddress(ip, port.getPort()), () -> pick(key)));
          LOG.info("service {}/{} port {} on {}", ns, name, port.getPort(), key);
        }
      }
    }
    endpoints = next;
    for (var e : forwarders.entrySet()) {
      if (!wanted.contains(e.getKey())) {
        forwarders.remove(e.getKey());
        e.getValue().close();
      }
    }
  }

  private static List<InetSocketAddress> ready(
      List<EndpointSlice> slices, String ns, String service, String portName) {
    List<InetSocketAddress> out = new ArrayList<>();
    for (EndpointSlice slice : slices) {
      if (!ns.equals(slice.getMetadata().getNamespace())
          || slice.getMetadata().getLabels() == null
          || !service.equals(slice.getMetadata().getLabels().get("kubernetes.io/service-name"))
          || slice.getPorts() == null) {
        continue;
      }
      Integer target = null;
      for (EndpointPort p : slice.getPorts()) {
        if (portName == null || portName.equals(p.getName()) || slice.getPorts().size() == 1) {
          target = p.getPort();
        }
      }
      if (target == null) {
        continue;
      }
      for (Endpoint e : slice.getEndpoints()) {
        boolean isReady =
            e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady());
        if (isReady) {
          for (String address : e.getAddresses()) {
            out.add(new InetSocketAddress(address, target));
          }
        }
      }
    }
    return out;
  }

  /**
   * On the loopback pod network the endpoint controllers refuse the pods' loopback addresses, so
   * the ready pods the Service selects are looked up directly, as the EndpointSlice controller
   * would.
   */
  private List<InetSocketAddress> readyPods(Service s, ServicePort port) {
    List<InetSocketAddress> out = new ArrayList<>();
    Map<String, String> selector = s.getSpec().getSelector();
    if (selector == null || selector.isEmpty()) {
      return out;
    }
    for (Pod p :
        client
            .pods()
            .inNamespace(s.getMetadata().getNamespace())
            .withLabels(selector)
            .list()
            .getItems()) {
      boolean ready =
          p.getMetadata().getDeletionTimestamp() == null
              && p.getStatus() != null
              && p.getStatus().getPodIP() != null
              && p.getStatus().getConditions() != null
              && p.getStatus().getConditions().stream()
                  .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
      if (!ready) {
        continue;
      }
      int target = port.getPort();
      if (port.getTargetPort() != null && port.getTargetPort().getIntVal() != null) {
        target = port.getTargetPort().getIntVal();
      } else if (port.getTargetPort() != null && port.getTargetPort().getStrVal() != null) {
        String portName = port.getTargetPort().getStrVal();
        for (var c : p.getSpec().getContainers()) {
          for (var cp : c.getPorts()) {
            if (portName.equals(cp.getName())) {
              target = cp.getContainerPort();
            }
          }
        }
      }
      out.add(new InetSocketAddress(p.getStatus().getPodIP(), target));
    }
    return out;
  }

  private InetSocketAddress pick(String key) {
    List<InetSocketAddress> candidates = endpoints.getOrDefault(key, List.of());
    if (candidates.isEmpty()) {
      return null;
    }
    return candidates.get(Math.floorMod(roundRobin.getAndIncrement(), candidates.size()));
  }

  @Override
  public void close() throws IOException {
    running = false;
    loop.interrupt();
    for (TcpForwarder f : forwarders.values()) {
      f.close();
    }
    forwarders.clear();
  }
}
