package dev.diskless.broker;

import dev.diskless.broker.playground.Playground;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The command line: {@code playground [--brokers 3] [--dir ./playground-data]} starts a local
 * cluster on real components and prints {@code bootstrap.servers=...}; it runs until interrupted.
 */
public final class BrokerMain {

  private BrokerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || !args[0].equals("playground")) {
      System.err.println(
          "usage: java -jar diskless-broker.jar playground [--brokers N] [--dir DIR]");
      System.exit(2);
    }
    int brokers = 3;
    Path dir = Path.of("playground-data");
    for (int i = 1; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--brokers" -> brokers = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> {
          System.err.println("unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    Playground playground = new Playground(dir.toAbsolutePath(), brokers);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  playground.close();
                  stopped.countDown();
                }));
    System.out.println("bootstrap.servers=" + playground.bootstrapServers());
    System.out.flush();
    stopped.await();
  }
}
