package dev.diskless.e2e.kube;

import java.io.IOException;
import java.util.BitSet;

/**
 * The host numbers of a /24 handed to pods: 2 to 254 (0 is the network, 1 the node, 255 broadcast),
 * each taken by one pod until released. Numbers are handed out round-robin, as CNI's host-local
 * IPAM does: an address reused at once is still in other pods' neighbour (ARP) tables with the old
 * pod's MAC, and connections to it hang for seconds until the entry is found stale (an e2e run saw
 * the operator's connections to a new cluster's brokers time out after 11 s that way).
 */
final class HostNumbers {

  private final BitSet used = new BitSet(256);
  private int last = 1;

  HostNumbers() {
    used.set(0, 2);
    used.set(255);
  }

  synchronized int take() throws IOException {
    int n = used.nextClearBit(last + 1);
    if (n >= 255) {
      n = used.nextClearBit(2);
    }
    if (n >= 255) {
      throw new IOException("pod network full");
    }
    used.set(n);
    last = n;
    return n;
  }

  synchronized void release(int n) {
    used.clear(n);
  }

  /** The numbers taken now (a copy). */
  synchronized int[] taken() {
    return used.get(2, 255).stream().map(i -> i + 2).toArray();
  }
}
