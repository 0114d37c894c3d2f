package dev.diskless.e2e.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCatalogTest {

  /** A one-file Java program the source launcher runs: writes its second argument to its first. */
  private static final String WRITER =
      """
      import java.nio.file.*;
      public class Write {
        public static void main(String[] a) throws Exception {
          if (a[1].equals("fail")) { System.out.println("refusing"); System.exit(3); }
          Files.writeString(Path.of(a[0]), a[1]);
        }
      }
      """;

  private static Path context(Path dir, String runLine) throws IOException {
    Files.writeString(dir.resolve("Write.java"), WRITER);
    return Files.writeString(
        dir.resolve("Dockerfile"),
        String.join(
            "\n",
            "FROM eclipse-temurin:25-jre",
            "RUN useradd --system --uid 10001 app && install -d -o 10001 /opt/app/out",
            "COPY Write.java /opt/app/Write.java",
            runLine,
            "ENTRYPOINT [\"java\", \"-XX:AOTCache=/opt/app/out/cache\", \"-jar\", \"/opt/app/app.jar\"]"));
  }

  @Test
  void aJavaBuildStepRunsOnceAndItsOutputIsInTheImage(@TempDir Path dir) throws Exception {
    Path dockerfile =
        context(
            dir, "RUN [\"java\", \"/opt/app/Write.java\", \"/opt/app/out/cache\", \"trained\"]");
    ImageCatalog catalog = new ImageCatalog(dir.resolve("work")).with("x/app", dockerfile);

    ImageCatalog.Image image = catalog.prepare().resolve("x/app:1.0");

    Path cache = Path.of(image.hostPath("/opt/app/out/cache"));
    assertThat(cache).startsWith(image.rootfs()).hasContent("trained");
    assertThat(image.hostPath("-XX:AOTCache=/opt/app/out/cache"))
        .isEqualTo("-XX:AOTCache=" + cache);
    // Paths the image does not have, and options naming none, stay as they are.
    assertThat(image.hostPath("-XX:AOTCache=/opt/app/missing"))
        .isEqualTo("-XX:AOTCache=/opt/app/missing");
    assertThat(image.hostPath("-Dx=y")).isEqualTo("-Dx=y");
    assertThat(image.entrypoint())
        .containsExactly("java", "-XX:AOTCache=/opt/app/out/cache", "-jar", "/opt/app/app.jar");
    assertThat(catalog.resolve("x/app@sha256:00")).isSameAs(image);
  }

  @Test
  void aFailingBuildStepFailsTheImageWithItsOutput(@TempDir Path dir) throws Exception {
    Path dockerfile =
        context(dir, "RUN [\"java\", \"/opt/app/Write.java\", \"/opt/app/out/cache\", \"fail\"]");
    ImageCatalog catalog = new ImageCatalog(dir.resolve("work")).with("x/app", dockerfile);

    assertThatThrownBy(() -> catalog.resolve("x/app"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("RUN step 4 exited 3")
        .hasMessageContaining("refusing");
    assertThatThrownBy(() -> catalog.resolve("y/other"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not one this node can run");
  }
}
