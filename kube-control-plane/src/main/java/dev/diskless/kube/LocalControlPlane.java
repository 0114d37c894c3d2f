package dev.diskless.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * etcd, kube-apiserver, kube-controller-manager and (optionally) kube-scheduler as local processes,
 * built from source by {@code e2e/kube/build-control-plane.sh} ({@link ControlPlaneBinaries}).
 * Admin access is a static token of a system:masters user; RBAC is on for everyone else. The
 * operator's tests run it on loopback without a scheduler (pods stay Pending); the e2e scenarios
 * run it on every address with a scheduler, so that pods in their network namespaces reach it at
 * the node's address.
 */
public final class LocalControlPlane implements AutoCloseable {

  /** Service ClusterIPs come from here. */
  public static final String SERVICE_CIDR = "10.96.0.0/24";

  private final Path dir;
  private final List<Process> processes = new ArrayList<>();
  private final int apiPort;
  private final String adminToken = "admin-" + UUID.randomUUID();

  /**
   * Where the API server listens and what it advertises, and whether pods get scheduled.
   *
   * @param bindAddress the API server's listen address
   * @param advertiseAddress the address the "kubernetes" Service points at
   * @param scheduler start kube-scheduler
   */
  public record Options(String bindAddress, String advertiseAddress, boolean scheduler) {

    /** For tests of the API: loopback only, no scheduler. */
    public static Options apiOnly() {
      return new Options("127.0.0.1", "127.0.0.1", false);
    }
  }

  public LocalControlPlane(Path bin, Path dir, Options options) throws Exception {
    this.dir = dir;
    Files.createDirectories(dir);
    apiPort = freePort();
    try {
      startAll(bin, options);
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  private void startAll(Path bin, Options options) throws Exception {
    int etcdPort = freePort();
    int peerPort = freePort();
    start(
        "etcd",
        List.of(
            bin.resolve("etcd").toString(),
            "--name=e2e",
            "--data-dir=" + dir.resolve("etcd"),
            "--unsafe-no-fsync",
            "--listen-client-urls=http://127.0.0.1:" + etcdPort,
            "--advertise-client-urls=http://127.0.0.1:" + etcdPort,
            "--listen-peer-urls=http://127.0.0.1:" + peerPort,
            "--initial-advertise-peer-urls=http://127.0.0.1:" + peerPort,
            "--initial-cluster=e2e=http://127.0.0.1:" + peerPort,
            "--log-level=warn"));
    var keys = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    Files.writeString(dir.resolve("sa.key"), pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    Files.writeString(dir.resolve("sa.pub"), pem("PUBLIC KEY", keys.getPublic().getEncoded()));
    Files.writeString(
        dir.resolve("tokens.csv"), adminToken + ",e2e-admin,e2e-admin-uid,system:masters\n");
    Process api =
        start(
            "kube-apiserver",
            List.of(
                bin.resolve("kube-apiserver").toString(),
                "--etcd-servers=http://127.0.0.1:" + etcdPort,
                "--bind-address=" + options.bindAddress(),
                "--advertise-address=" + options.advertiseAddress(),
                "--secure-port=" + apiPort,
                "--cert-dir=" + dir.resolve("certs"),
                "--authorization-mode=Node,RBAC",
                "--token-auth-file=" + dir.resolve("tokens.csv"),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file=" + dir.resolve("sa.pub"),
                "--service-account-signing-key-file=" + dir.resolve("sa.key"),
                "--service-cluster-ip-range=" + SERVICE_CIDR));
    awaitHealthy(api, "kube-apiserver", url() + "/readyz", Duration.ofSeconds(90));
    Files.writeString(
        kubeconfig(),
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: e2e, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
        users: [{name: admin, user: {token: "%s"}}]
        contexts: [{name: e2e, context: {cluster: e2e, user: admin}}]
        current-context: e2e
        """
            .formatted(url(), adminToken));
    String kc = kubeconfig().toString();
    int kcmPort = freePort();
    Process kcm =
        start(
            "kube-controller-manager",
            List.of(
                bin.resolve("kube-controller-manager").toString(),
                "--kubeconfig=" + kc,
                "--authentication-kubeconfig=" + kc,
                "--authorization-kubeconfig=" + kc,
                "--bind-address=127.0.0.1",
                "--secure-port=" + kcmPort,
                "--cert-dir=" + dir.resolve("kcm-certs"),
                "--leader-elect=false",
                "--service-account-private-key-file=" + dir.resolve("sa.key"),
                "--root-ca-file=" + dir.resolve("certs").resolve("apiserver.crt"),
                "--use-service-account-credentials=false"));
    awaitHealthy(
        kcm,
        "kube-controller-manager",
        "https://127.0.0.1:" + kcmPort + "/healthz",
        Duration.ofSeconds(60));
    if (options.scheduler()) {
      int schedulerPort = freePort();
      Process scheduler =
          start(
              "kube-scheduler",
              List.of(
                  bin.resolve("kube-scheduler").toString(),
                  "--kubeconfig=" + kc,
                  "--authentication-kubeconfig=" + kc,
                  "--authorization-kubeconfig=" + kc,
                  "--bind-address=127.0.0.1",
                  "--secure-port=" + schedulerPort,
                  "--cert-dir=" + dir.resolve("scheduler-certs"),
                  "--leader-elect=false"));
      awaitHealthy(
          scheduler,
          "kube-scheduler",
          "https://127.0.0.1:" + schedulerPort + "/healthz",
          Duration.ofSeconds(60));
    }
  }

  /** A token of a system:masters user. */
  public String adminToken() {
    return adminToken;
  }

  /** The API server on loopback (for this JVM). */
  public String url() {
    return "https://127.0.0.1:" + apiPort;
  }

  public int apiPort() {
    return apiPort;
  }

  public Path kubeconfig() {
    return dir.resolve("admin.kubeconfig");
  }

  public KubernetesClient adminClient() {
    Config config =
        new ConfigBuilder()
            .withMasterUrl(url())
            .withOauthToken(adminToken)
            .withTrustCerts(true)
            .withDisableHostnameVerification(true)
            .withNamespace("default")
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** The directory with each component's log. */
  public Path logs() {
    return dir;
  }

  private Process start(String name, List<String> command) throws IOException {
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(name + ".log").toFile())
            .start();
    processes.add(p);
    return p;
  }

  private void awaitHealthy(Process process, String name, String probe, Duration timeout)
      throws Exception {
    SSLContext trustAll = SSLContext.getInstance("TLS");
    trustAll.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
    HttpClient http = HttpClient.newBuilder().sslContext(trustAll).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited; see " + dir.resolve(name + ".log"));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(probe))
                    .header("Authorization", "Bearer " + adminToken)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(name + " not healthy after " + timeout);
  }

  /** In reverse order of start: the scheduler and controller manager first, etcd last. */
  @Override
  public void close() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      Process p = processes.get(i);
      p.destroy();
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A TCP port free on this machine now. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /**
   * The API server's certificate is self-signed by --cert-dir and names the node's address, not
   * 127.0.0.1. An extended trust manager, so that the JDK adds no host name check of its own.
   */
  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
