package dev.diskless.operator.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** helm lint and helm template of the operator's chart, through helm-java (no helm binary). */
class ChartTest {

  static Path chart() {
    return Path.of(System.getProperty("chart.dir", "../helm/diskless-operator"));
  }

  @Test
  void theChartLintsAndRenders() {
    LintResult lint = new Helm(chart()).lint().strict().call();
    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    String rendered =
        new Helm(chart()).template().withName("diskless").withNamespace("diskless-system").call();
    assertThat(rendered).contains("kind: ClusterRole").contains("kind: Deployment");
  }
}
