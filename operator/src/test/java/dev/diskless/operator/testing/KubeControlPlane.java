package dev.diskless.operator.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager
 * processes on loopback ports (Deployments get ReplicaSets and Pods, owned objects are garbage
 * collected, namespaces are emptied; no scheduler or kubelet, so pods stay Pending), built from
 * source by {@code e2e/kube/build-control-plane.sh} (the package registries are all this project's
 * CI can reach, so no downloaded release binaries). One per test JVM; each test works in a
 * namespace of its own. Admin access is a static token of a system:masters user, so RBAC is
 * enforced for every other identity.
 */
public final class KubeControlPlane {

  private static KubeControlPlane instance;

  private final Path dir;
  private final Process etcd;
  private final Process apiServer;
  private final Process controllerManager;
  private final String url;
  private final String adminToken = "admin-" + UUID.randomUUID();

  private KubeControlPlane(Path bin) throws Exception {
    dir = Files.createTempDirectory("kube-control-plane");
    int etcdPort = freePort();
    int peerPort = freePort();
    int apiPort = freePort();
    etcd =
        start(
            "etcd",
            List.of(
                bin.resolve("etcd").toString(),
                "--name=test",
                "--data-dir=" + dir.resolve("etcd"),
                "--unsafe-no-fsync",
                "--listen-client-urls=http://127.0.0.1:" + etcdPort,
                "--advertise-client-urls=http://127.0.0.1:" + etcdPort,
                "--listen-peer-urls=http://127.0.0.1:" + peerPort,
                "--initial-advertise-peer-urls=http://127.0.0.1:" + peerPort,
                "--initial-cluster=test=http://127.0.0.1:" + peerPort,
                "--log-level=warn"));
    KeyPair serviceAccountKeys = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    Files.writeString(
        dir.resolve("sa.key"), pem("PRIVATE KEY", serviceAccountKeys.getPrivate().getEncoded()));
    Files.writeString(
        dir.resolve("sa.pub"), pem("PUBLIC KEY", serviceAccountKeys.getPublic().getEncoded()));
    Files.writeString(
        dir.resolve("tokens.csv"), adminToken + ",test-admin,test-admin-uid,system:masters\n");
    apiServer =
        start(
            "kube-apiserver",
            List.of(
                bin.resolve("kube-apiserver").toString(),
                "--etcd-servers=http://127.0.0.1:" + etcdPort,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=" + apiPort,
                "--cert-dir=" + dir.resolve("certs"),
                "--authorization-mode=RBAC",
                "--token-auth-file=" + dir.resolve("tokens.csv"),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file=" + dir.resolve("sa.pub"),
                "--service-account-signing-key-file=" + dir.resolve("sa.key"),
                "--service-cluster-ip-range=10.0.0.0/24"));
    url = "https://127.0.0.1:" + apiPort;
    awaitReady(apiServer, "kube-apiserver", url + "/readyz", Duration.ofSeconds(90));
    Files.writeString(
        dir.resolve("admin.kubeconfig"),
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: test, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
        users: [{name: admin, user: {token: "%s"}}]
        contexts: [{name: test, context: {cluster: test, user: admin}}]
        current-context: test
        """
            .formatted(url, adminToken));
    int kcmPort = freePort();
    String kubeconfig = dir.resolve("admin.kubeconfig").toString();
    controllerManager =
        start(
            "kube-controller-manager",
            List.of(
                bin.resolve("kube-controller-manager").toString(),
                "--kubeconfig=" + kubeconfig,
                "--authentication-kubeconfig=" + kubeconfig,
                "--authorization-kubeconfig=" + kubeconfig,
                "--bind-address=127.0.0.1",
                "--secure-port=" + kcmPort,
                "--cert-dir=" + dir.resolve("kcm-certs"),
                "--leader-elect=false",
                "--service-account-private-key-file=" + dir.resolve("sa.key"),
                "--root-ca-file=" + dir.resolve("certs").resolve("apiserver.crt"),
                "--use-service-account-credentials=false"));
    awaitReady(
        controllerManager,
        "kube-controller-manager",
        "https://127.0.0.1:" + kcmPort + "/healthz",
        Duration.ofSeconds(60));
    Runtime.getRuntime().addShutdownHook(new Thread(this::stop));
  }

  /** The control plane of this JVM, started on first use. */
  public static synchronized KubeControlPlane get() {
    if (instance == null) {
      try {
        instance = new KubeControlPlane(binaries());
      } catch (Exception e) {
        throw new IllegalStateException("cannot start the Kubernetes control plane: " + e, e);
      }
    }
    return instance;
  }

  public String url() {
    return url;
  }

  /** A token of a system:masters user. */
  public String adminToken() {
    return adminToken;
  }

  /** A client with cluster-admin rights. */
  public KubernetesClient adminClient() {
    Config config =
        new ConfigBuilder()
            .withMasterUrl(url)
            .withOauthToken(adminToken)
            .withTrustCerts(true)
            .withNamespace("default")
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** Creates a fresh namespace and returns its name. */
  public String newNamespace(KubernetesClient client) {
    String name = "t-" + UUID.randomUUID().toString().substring(0, 8);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }

  private static Path binaries() {
    String configured = System.getProperty("kube.bin");
    if (configured == null || configured.isBlank() || configured.startsWith("${")) {
      configured = System.getenv("DISKLESS_KUBE_BIN");
    }
    Path bin = configured != null && !configured.isBlank() ? Path.of(configured) : buildBinaries();
    if (!Files.isExecutable(bin.resolve("kube-apiserver"))
        || !Files.isExecutable(bin.resolve("etcd"))
        || !Files.isExecutable(bin.resolve("kube-controller-manager"))) {
      throw new IllegalStateException(
          "no etcd, kube-apiserver and kube-controller-manager in "
              + bin
              + ": run e2e/kube/build-control-plane.sh or set DISKLESS_KUBE_BIN");
    }
    return bin;
  }

  /**
   * Runs the build script, which returns at once when its cache is current and otherwise builds
   * from source (minutes, once per machine); it prints the directory of the binaries last.
   */
  private static Path buildBinaries() {
    try {
      Path script = Path.of("..", "e2e", "kube", "build-control-plane.sh").toAbsolutePath();
      ProcessBuilder pb =
          new ProcessBuilder(script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
      pb.environment()
          .putIfAbsent("DISKLESS_KUBE_COMPONENTS", "etcd kube-apiserver kube-controller-manager");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (p.waitFor() != 0) {
        throw new IllegalStateException(script + " failed (exit " + p.exitValue() + ")");
      }
      return Path.of(out.substring(out.lastIndexOf('\n') + 1));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run e2e/kube/build-control-plane.sh", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private Process start(String name, List<String> command) throws IOException {
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile())
        .start();
  }

  private void awaitReady(Process process, String name, String probe, Duration timeout)
      throws Exception {
    SSLContext trustAll = SSLContext.getInstance("TLS");
    trustAll.init(null, new TrustManager[] {new TrustAllCerts()}, new SecureRandom());
    HttpClient http = HttpClient.newBuilder().sslContext(trustAll).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited: " + tail(dir.resolve(name + ".log")));
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
        // Still starting.
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        name + " not ready after " + timeout + ": " + tail(dir.resolve(name + ".log")));
  }

  /**
   * The controller manager, then the API server (it would wait for etcd), each given a few seconds,
   * then killed.
   */
  private void stop() {
    for (Process p : List.of(controllerManager, apiServer, etcd)) {
      p.destroy();
      try {
        if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
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

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** The API server's certificate is self-signed by --cert-dir; tests trust it. */
  private static final class TrustAllCerts implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
