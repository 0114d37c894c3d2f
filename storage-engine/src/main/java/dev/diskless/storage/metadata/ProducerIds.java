package dev.diskless.storage.metadata;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.CompletableFuture;

/** Allocates cluster-unique producer ids (InitProducerId) from a PostgreSQL sequence. */
public final class ProducerIds {

  private final MetadataStore store;

  public ProducerIds(MetadataStore store) {
    this.store = store;
  }

  public CompletableFuture<Long> next() {
    return store.async(
        c -> {
          try (PreparedStatement ps = c.prepareStatement("SELECT nextval('producer_ids')");
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }
}
