package dev.diskless.operator.crd;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The PostgreSQL database holding the cluster's metadata. */
public class MetadataSpec {

  @Required
  @Pattern("^jdbc:postgresql://.+")
  @JsonPropertyDescription("JDBC URL, e.g. jdbc:postgresql://db:5432/diskless.")
  public String jdbcUrl;

  @Required
  @JsonPropertyDescription("Secret with the database user and password.")
  public CredentialsSecret credentialsSecret;

  /** Keys of the database credentials in a Secret of the cluster's namespace. */
  public static class CredentialsSecret {
    @Required
    @JsonPropertyDescription("Name of the Secret.")
    public String name;

    @Default("username")
    @JsonPropertyDescription("Key holding the user name.")
    public String usernameKey = "username";

    @Default("password")
    @JsonPropertyDescription("Key holding the password.")
    public String passwordKey = "password";
  }
}
