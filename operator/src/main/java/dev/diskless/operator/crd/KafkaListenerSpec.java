package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * One named Kafka listener of the brokers: its port, optional TLS from a Kubernetes TLS Secret (as
 * cert-manager writes it) and how its clients authenticate. It becomes a Kafka listener named after
 * it in upper case, with the security protocol the two imply (PLAINTEXT, SSL, SASL_PLAINTEXT or
 * SASL_SSL).
 */
@ValidationRule(
    value = "!has(self.authentication) || self.authentication.type != 'tls' || has(self.tls)",
    message = "authentication type tls (client certificates) needs tls on the same listener")
// PLAIN sends the password itself.
@ValidationRule(
    value = "!has(self.authentication) || self.authentication.type != 'plain' || has(self.tls)",
    message = "authentication type plain sends passwords as they are: it needs tls")
public class KafkaListenerSpec {

  @Required
  @Size(max = 15)
  @Pattern("^[a-z][a-z0-9]{0,14}$")
  @ValidationRule(value = "self != 'http'", message = "http is the name of the metrics port")
  @JsonPropertyDescription(
      "Name of the listener and of its container and Service port: a lowercase letter, then up to"
          + " 14 lowercase letters and digits (becomes the Kafka listener name in upper case).")
  public String name;

  @Required
  @Min(1024)
  @Max(65535)
  @JsonPropertyDescription("Port of the listener on each broker and on the bootstrap Service.")
  public int port;

  @JsonPropertyDescription(
      "TLS: the Secret holding tls.crt, tls.key (PKCS#8, PKCS#1 or SEC1) and ca.crt; certificates"
          + " renewed in the Secret are served to new connections without a restart.")
  public Tls tls;

  @JsonPropertyDescription("How clients of this listener authenticate; none when absent.")
  public Authentication authentication;

  /** TLS of a listener. */
  public static class Tls {
    @Required
    @Size(max = 253)
    @JsonPropertyDescription("Name of a kubernetes.io/tls Secret in the cluster's namespace.")
    public String secretName;
  }

  /** Client authentication of a listener. */
  public static class Authentication {

    /** What clients prove themselves with. */
    public enum Type {
      @JsonProperty("scram-sha-512")
      SCRAM_SHA_512,
      @JsonProperty("plain")
      PLAIN,
      @JsonProperty("tls")
      TLS
    }

    @Required
    @JsonPropertyDescription(
        "scram-sha-512 (SASL SCRAM), plain (SASL PLAIN, checked against the user's SCRAM"
            + " credential; use with tls) or tls (client certificates signed by the Secret's"
            + " ca.crt; the principal is the certificate's distinguished name).")
    public Type type;
  }
}
