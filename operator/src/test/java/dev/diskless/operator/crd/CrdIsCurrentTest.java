package dev.diskless.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.crdv2.generator.CRDGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRD in crds/ is generated from the Java model and committed (GitOps tools and the Helm chart
 * apply it as is); this fails when the model changed and the file was not regenerated. Regenerate
 * with {@code ./mvnw -pl operator test -Dtest=CrdIsCurrentTest -Dcrd.update=true}.
 */
class CrdIsCurrentTest {

  static final String FILE = "disklesskafkaclusters.diskless.dev-v1.yml";

  /**
   * Every field of the model carries a description, which the generator writes into the schema:
   * {@code kubectl explain dkc.spec...} documents each field. Kubernetes types embedded in it
   * (affinity, tolerations, ...) bring their own documentation.
   */
  @Test
  void everyFieldOfTheModelIsDescribed() {
    java.util.List<String> undescribed = new java.util.ArrayList<>();
    java.util.Deque<Class<?>> todo =
        new java.util.ArrayDeque<>(
            java.util.List.of(
                DisklessKafkaClusterSpec.class,
                DisklessKafkaClusterStatus.class,
                DisklessKafkaUserSpec.class,
                DisklessKafkaUserStatus.class,
                DisklessKafkaTopicSpec.class,
                DisklessKafkaTopicStatus.class));
    java.util.Set<Class<?>> seen = new java.util.HashSet<>();
    while (!todo.isEmpty()) {
      Class<?> type = todo.pop();
      if (!seen.add(type)) {
        continue;
      }
      for (java.lang.reflect.Field f : type.getFields()) {
        if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        if (f.getAnnotation(com.fasterxml.jackson.annotation.JsonPropertyDescription.class)
            == null) {
          undescribed.add(type.getSimpleName() + "." + f.getName());
        }
        if (f.getType().getPackageName().equals(DisklessKafkaCluster.class.getPackageName())
            && !f.getType().isEnum()) {
          todo.push(f.getType());
        }
      }
    }
    assertThat(seen).hasSizeGreaterThan(6);
    assertThat(undescribed).as("fields without @JsonPropertyDescription").isEmpty();
  }

  /** The user CRD's file. */
  static final String USER_FILE = "disklesskafkausers.diskless.dev-v1.yml";

  /** The topic CRD's file. */
  static final String TOPIC_FILE = "disklesskafkatopics.diskless.dev-v1.yml";

  @Test
  void committedCrdMatchesTheModel(@TempDir Path out) throws Exception {
    new CRDGenerator()
        .customResourceClasses(
            DisklessKafkaCluster.class, DisklessKafkaUser.class, DisklessKafkaTopic.class)
        .inOutputDir(out.toFile())
        .generate();
    for (String file : java.util.List.of(FILE, USER_FILE, TOPIC_FILE)) {
      String generated = Files.readString(out.resolve(file));
      // The same file in crds/ and in the Helm chart, which installs it.
      for (Path committed :
          java.util.List.of(
              Path.of(System.getProperty("crd.dir", "../crds")).resolve(file),
              Path.of(System.getProperty("chart.dir", "../helm/diskless-operator"))
                  .resolve("crds")
                  .resolve(file))) {
        if (Boolean.getBoolean("crd.update")) {
          Files.createDirectories(committed.getParent());
          Files.writeString(committed, generated);
        }
        assertThat(committed).exists();
        assertThat(Files.readString(committed))
            .as("%s is stale: regenerate with -Dcrd.update=true", committed)
            .isEqualTo(generated);
      }
    }
  }
}
