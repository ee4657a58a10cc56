package sectwin.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs Neo4j 5.26 Community embedded, with Bolt on a loopback address and APOC core registered.
 *
 * <pre>
 * java -Xms1g -Xmx1g -cp "target/classes:target/lib/*" sectwin.launcher.Main \
 *   --home DIR [--bolt 127.0.0.1:7687] [--plugins DIR] [--conf FILE] [--ready FILE] [--password PW]
 * </pre>
 *
 * Prints {@code READY bolt://HOST:PORT} and writes the ready file once Bolt listens, then blocks until
 * SIGTERM, when a shutdown hook stops the DBMS cleanly so the store survives a restart.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        Args a;
        try {
            a = Args.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("neo4j-launcher: " + e.getMessage());
            System.err.println("usage: Main --home DIR [--bolt HOST:PORT] [--plugins DIR] [--conf FILE] [--ready FILE] [--password PW]");
            System.exit(2);
            return;
        }

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(a.home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(a.boltHost, a.boltPort))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, a.password != null)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(512))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.procedure_unrestricted, List.of("apoc.*"));
        if (a.plugins != null) {
            builder.setConfig(GraphDatabaseSettings.plugin_dir, a.plugins.toAbsolutePath());
        }
        if (a.conf != null) {
            // File values override the defaults above. 5.x rejects unknown setting names at start-up.
            builder.loadPropertiesFromFile(a.conf);
        }

        DatabaseManagementService dbms;
        try {
            dbms = builder.build();
        } catch (RuntimeException e) {
            System.err.println("neo4j-launcher: Neo4j failed to start: " + rootMessage(e));
            System.err.println("neo4j-launcher: is the Bolt port " + a.boltPort
                    + " already in use, or another launcher running on " + a.home + "?");
            e.printStackTrace(System.err);
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("neo4j-launcher: shutting down");
            try {
                dbms.shutdown();
            } finally {
                stopped.countDown();
                if (a.ready != null) {
                    try {
                        Files.deleteIfExists(a.ready);
                    } catch (IOException ignored) {
                        // the script removes it too
                    }
                }
            }
            System.out.println("neo4j-launcher: stopped");
        }, "neo4j-shutdown"));

        if (a.password != null) {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", a.password));
        }

        long apoc = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally(
                "SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'apoc.' RETURN count(*) AS n", Map.of(),
                r -> (Long) r.next().get("n"));
        String uri = "bolt://" + a.boltHost + ":" + a.boltPort;
        System.out.println("neo4j-launcher: Neo4j " + org.neo4j.kernel.internal.Version.getNeo4jVersion()
                + " up, " + apoc + " APOC procedures registered");
        System.out.println("READY " + uri);
        System.out.flush();
        if (a.ready != null) {
            Path tmp = a.ready.resolveSibling(a.ready.getFileName() + ".tmp");
            Files.writeString(tmp, uri + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, a.ready, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        stopped.await();
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }

    /** Command-line arguments. */
    private static final class Args {
        Path home;
        String boltHost = "127.0.0.1";
        int boltPort = 7687;
        Path plugins;
        Path conf;
        Path ready;
        String password;

        static Args parse(String[] args) {
            Args a = new Args();
            for (int i = 0; i < args.length; i++) {
                String flag = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value for " + flag);
                }
                String v = args[++i];
                switch (flag) {
                    case "--home" -> a.home = Path.of(v).toAbsolutePath();
                    case "--plugins" -> a.plugins = Path.of(v);
                    case "--conf" -> a.conf = Path.of(v);
                    case "--ready" -> a.ready = Path.of(v);
                    case "--password" -> {
                        if (v.length() < 8) {
                            throw new IllegalArgumentException("--password needs at least 8 characters");
                        }
                        a.password = v;
                    }
                    case "--bolt" -> {
                        int colon = v.lastIndexOf(':');
                        if (colon <= 0) {
                            throw new IllegalArgumentException("--bolt wants HOST:PORT, got " + v);
                        }
                        a.boltHost = v.substring(0, colon);
                        try {
                            a.boltPort = Integer.parseInt(v.substring(colon + 1));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--bolt port is not a number: " + v);
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown flag " + flag);
                }
            }
            if (a.home == null) {
                throw new IllegalArgumentException("--home is required");
            }
            return a;
        }
    }
}
