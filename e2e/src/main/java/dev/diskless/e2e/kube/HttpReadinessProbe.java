package dev.diskless.e2e.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.Probe;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One container's readiness, as a kubelet decides it from an HTTP readiness probe: not ready when
 * the container (re)starts, the first probe after the initial delay, then one every period, ready
 * after {@code successThreshold} successes in a row, not ready after {@code failureThreshold}
 * failures in a row (a 2xx or 3xx answer within the timeout is a success). A container without a
 * readiness probe is ready as soon as it runs; one with a probe other than httpGet never becomes
 * ready here (exec and tcpSocket probes are not run by the process kubelet).
 */
final class HttpReadinessProbe {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private final Container container;
  private final Probe probe;
  private boolean ready;
  private long nextProbe;
  private int failures;
  private int successes;

  HttpReadinessProbe(Container container) {
    this.container = container;
    this.probe = container.getReadinessProbe();
  }

  /** The container's process (re)started: readiness starts over. */
  void restarted() {
    ready = probe == null;
    failures = 0;
    successes = 0;
    int delay =
        probe == null || probe.getInitialDelaySeconds() == null
            ? 0
            : probe.getInitialDelaySeconds();
    nextProbe = System.nanoTime() + TimeUnit.SECONDS.toNanos(delay);
  }

  /** The process is gone: not ready until it runs again. */
  void stopped() {
    ready = false;
  }

  boolean ready() {
    return ready;
  }

  /**
   * Probes the container at {@code ip} if the period has come; true when readiness changed. Blocks
   * for at most the probe's timeout.
   */
  boolean tick(String ip) {
    if (probe == null || probe.getHttpGet() == null || System.nanoTime() < nextProbe) {
      return false;
    }
    int period = probe.getPeriodSeconds() == null ? 10 : probe.getPeriodSeconds();
    nextProbe = System.nanoTime() + TimeUnit.SECONDS.toNanos(period);
    boolean ok =
        get(
            probe.getHttpGet(),
            ip,
            probe.getTimeoutSeconds() == null ? 1 : probe.getTimeoutSeconds());
    int failureThreshold = probe.getFailureThreshold() == null ? 3 : probe.getFailureThreshold();
    int successThreshold = probe.getSuccessThreshold() == null ? 1 : probe.getSuccessThreshold();
    boolean before = ready;
    if (ok) {
      failures = 0;
      if (++successes >= successThreshold) {
        ready = true;
      }
    } else {
      successes = 0;
      if (++failures >= failureThreshold || !ready) {
        ready = false;
      }
    }
    return before != ready;
  }

  private boolean get(HTTPGetAction get, String ip, int timeoutSeconds) {
    int port = port(get);
    if (port < 0 || ip == null) {
      return false;
    }
    try {
      HttpResponse<Void> r =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://"
                              + ip
                              + ":"
                              + port
                              + (get.getPath() == null ? "/" : get.getPath())))
                  .timeout(Duration.ofSeconds(timeoutSeconds))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode() >= 200 && r.statusCode() < 400;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The probe's port: a number, or the name of one of the container's ports. */
  private int port(HTTPGetAction get) {
    if (get.getPort().getIntVal() != null) {
      return get.getPort().getIntVal();
    }
    return container.getPorts().stream()
        .filter(cp -> get.getPort().getStrVal().equals(cp.getName()))
        .findFirst()
        .map(cp -> cp.getContainerPort())
        .orElse(-1);
  }
}
