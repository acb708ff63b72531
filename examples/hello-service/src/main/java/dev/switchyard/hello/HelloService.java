package dev.switchyard.hello;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sample service switchyard deploys in its tests, demo and benchmarks.
 *
 * <p>It behaves like a Spring Boot application where a deploy can see it: the port comes from
 * {@code --server.port=N} or {@code SERVER_PORT}, health is at {@code /actuator/health}, every
 * response carries {@code X-App-Version}, and SIGTERM lets in-flight requests finish. The version
 * is the jar manifest's Implementation-Version, so two versions are two jars, as in production.
 */
public final class HelloService {
    private static final String k_name = "hello-service";
    private static final int k_default_port = 8080;
    private static final String k_default_address = "127.0.0.1";
    private static final int k_default_threads = 32;
    private static final long k_default_grace_ms = 30_000;
    // After the last in-flight request ends, wait this long for a request that a keep-alive
    // connection had already sent before the listener closed.
    private static final long k_quiet_ms = 100;

    private final String m_version;
    private final boolean m_fail_health;
    private final AtomicInteger m_in_flight = new AtomicInteger();
    private final AtomicBoolean m_draining = new AtomicBoolean();
    private int m_port;

    private HelloService(String version, boolean fail_health) {
        m_version = version;
        m_fail_health = fail_health;
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        String version = manifest_version();
        try {
            int port = parse_port(args, env);
            String address = parse_address(args, env);
            long delay_ms = parse_long(env, "STARTUP_DELAY_MS", 0);
            long grace_ms = parse_long(env, "SHUTDOWN_GRACE_MS", k_default_grace_ms);
            int threads = (int) parse_long(env, "SERVER_THREADS", k_default_threads);

            // A slow boot, as a real application has while it builds its context.
            if (delay_ms > 0) {
                Thread.sleep(delay_ms);
            }
            // A version that crashes at boot, for the deploy's "exits before healthy" path.
            if ("1".equals(env.get("FAIL_BOOT"))) {
                System.err.println(k_name + " " + version + ": FAIL_BOOT=1 is set; exiting before listening");
                System.exit(1);
            }

            HelloService service = new HelloService(version, "1".equals(env.get("FAIL_HEALTH")));
            service.run(address, port, threads, grace_ms);
        } catch (IllegalArgumentException e) {
            System.err.println(k_name + ": " + e.getMessage());
            System.exit(2);
        } catch (BindException e) {
            System.err.println(k_name + ": cannot listen: " + e.getMessage()
                    + "; pick another port with --server.port or SERVER_PORT");
            System.exit(1);
        } catch (IOException e) {
            System.err.println(k_name + ": cannot start the HTTP server: " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(130);
        }
    }

    private void run(String address, int port, int threads, long grace_ms) throws IOException {
        // The JDK server writes headers and body separately; without TCP_NODELAY, Nagle's algorithm
        // and delayed ACKs hold each keep-alive response back by about 40 ms. Its configuration is
        // read once, when the server class first loads, so set it before creating the server.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 1024);
        ExecutorService executor = Executors.newFixedThreadPool(threads, daemon_threads());
        server.setExecutor(executor);
        server.createContext("/", this::dispatch);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> shut_down(server, grace_ms), "shutdown"));

        server.start();
        m_port = server.getAddress().getPort();
        // The readiness benchmark reads this instant: the server answers from here on.
        long ready_ms = System.currentTimeMillis();
        PrintStream out = System.out;
        out.println(k_name + " ready at " + ready_ms + " port " + m_port + " version " + m_version);
        out.flush();
        // The service's own boot time, process start to ready, so a benchmark can tell it apart
        // from what a deploy adds around it. On stderr: the ready line stays the only stdout line.
        long boot_ms = ms_since_process_start();
        if (boot_ms >= 0) {
            System.err.println(k_name + " " + m_version + ": ready " + boot_ms + " ms after the process started");
        }
    }

    /**
     * Stop accepting, let the requests in flight finish (bounded by `grace_ms`), then exit 0.
     *
     * <p>HttpServer.stop closes the listening socket at once but, in JDK 17, waits its whole delay
     * even when nothing is in flight, so this counts requests itself and halts when they are done.
     * Halting from the hook also makes the exit status 0 instead of the JVM's 143 for SIGTERM.
     */
    private void shut_down(HttpServer server, long grace_ms) {
        m_draining.set(true);
        Thread stopper = new Thread(() -> server.stop((int) Math.max(1, (grace_ms + 999) / 1000)), "stop");
        stopper.setDaemon(true);
        stopper.start();

        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(grace_ms);
        long quiet_since = System.nanoTime();
        while (System.nanoTime() < deadline) {
            if (m_in_flight.get() > 0) {
                quiet_since = System.nanoTime();
            } else if (System.nanoTime() - quiet_since >= TimeUnit.MILLISECONDS.toNanos(k_quiet_ms)) {
                break;
            }
            sleep_quietly(5);
        }
        int left = m_in_flight.get();
        System.err.println(k_name + " " + m_version + ": stopped"
                + (left > 0 ? " with " + left + " request(s) still in flight after " + grace_ms + " ms" : ""));
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(0);
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        m_in_flight.incrementAndGet();
        try {
            exchange.getResponseHeaders().set("X-App-Version", m_version);
            // While draining, ask keep-alive clients (nginx) to take their next request elsewhere.
            if (m_draining.get()) {
                exchange.getResponseHeaders().set("Connection", "close");
            }
            route(exchange);
        } catch (RuntimeException e) {
            send(exchange, 500, "{\"error\":\"" + json_escape(String.valueOf(e.getMessage())) + "\"}");
        } finally {
            exchange.close();
            m_in_flight.decrementAndGet();
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        switch (path) {
            case "/actuator/health" -> {
                if (require(exchange, method, "GET")) {
                    if (m_fail_health) {
                        send(exchange, 503, "{\"status\":\"DOWN\"}");
                    } else {
                        send(exchange, 200, "{\"status\":\"UP\"}");
                    }
                }
            }
            case "/version" -> {
                if (require(exchange, method, "GET")) {
                    send(exchange, 200, "{\"version\":\"" + json_escape(m_version) + "\"}");
                }
            }
            case "/" -> {
                if (require(exchange, method, "GET")) {
                    send(exchange, 200, "{\"service\":\"" + k_name + "\",\"version\":\"" + json_escape(m_version)
                            + "\",\"port\":" + m_port + ",\"message\":\"hello\"}");
                }
            }
            case "/echo" -> {
                if (require(exchange, method, "POST")) {
                    echo(exchange);
                }
            }
            case "/slow" -> {
                // POST too: a long non-idempotent request, which a proxy must not resend.
                if ("POST".equals(method) || require(exchange, method, "GET")) {
                    long ms = query_long(exchange.getRequestURI().getRawQuery(), "ms", 1000);
                    sleep_quietly(ms);
                    send(exchange, 200, "{\"slept_ms\":" + ms + "}");
                }
            }
            default -> send(exchange, 404, "{\"error\":\"no such path: " + json_escape(path) + "\"}");
        }
    }

    private static boolean require(HttpExchange exchange, String method, String wanted) throws IOException {
        if (method.equals(wanted) || ("HEAD".equals(method) && "GET".equals(wanted))) {
            return true;
        }
        exchange.getResponseHeaders().set("Allow", wanted);
        send(exchange, 405, "{\"error\":\"use " + wanted + "\"}");
        return false;
    }

    private static void echo(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        exchange.getResponseHeaders().set("Content-Type", type != null ? type : "application/octet-stream");
        send_bytes(exchange, 200, body);
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        send_bytes(exchange, status, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void send_bytes(HttpExchange exchange, int status, byte[] body) throws IOException {
        // Drain any request body left unread so the keep-alive connection stays usable.
        exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /**
     * Milliseconds since the kernel started this process, to 10 ms, or -1 off Linux.
     *
     * <p>Both numbers come from the same clock (seconds since boot): /proc/uptime now, and the start
     * time in /proc/self/stat (field 22, in clock ticks, 100 a second on Linux). The JDK's
     * ProcessHandle start instant adds the boot time, which Linux gives only to the second.
     */
    private static long ms_since_process_start() {
        try {
            String uptime = Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0];
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // The command name (field 2) may hold spaces; the fields after it start past its ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            long start_ticks = Long.parseLong(fields[19]);
            double now_s = Double.parseDouble(uptime);
            return Math.max(0, Math.round(now_s * 1000) - start_ticks * 10);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The jar manifest's Implementation-Version, which Maven sets to the pom's version. */
    private static String manifest_version() {
        String version = HelloService.class.getPackage().getImplementationVersion();
        return version != null ? version : "unknown";
    }

    /**
     * The port from `--server.port=N`, else SERVER_PORT, else 8080. Like Spring Boot, other
     * `--key=value` arguments are properties this service does not use, and are ignored.
     */
    private static int parse_port(String[] args, Map<String, String> env) {
        String value = env.get("SERVER_PORT");
        String source = "SERVER_PORT";
        for (String arg : args) {
            if (arg.startsWith("--server.port=")) {
                value = arg.substring("--server.port=".length());
                source = "--server.port";
            }
        }
        if (value == null || value.isEmpty()) {
            return k_default_port;
        }
        try {
            int port = Integer.parseInt(value);
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + "=" + value + ": not a port; use 0-65535");
        }
    }

    /** The address from `--server.address=A`, else SERVER_ADDRESS, else loopback only. */
    private static String parse_address(String[] args, Map<String, String> env) {
        String value = env.getOrDefault("SERVER_ADDRESS", k_default_address);
        for (String arg : args) {
            if (arg.startsWith("--server.address=")) {
                value = arg.substring("--server.address=".length());
            }
        }
        return value.isEmpty() ? k_default_address : value;
    }

    private static long parse_long(Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value);
            if (parsed < 0) {
                throw new NumberFormatException();
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + value + ": not a non-negative whole number");
        }
    }

    private static long query_long(String query, String name, long fallback) {
        if (query == null) {
            return fallback;
        }
        for (String pair : query.split("&")) {
            if (pair.startsWith(name + "=")) {
                try {
                    return Math.max(0, Long.parseLong(pair.substring(name.length() + 1)));
                } catch (NumberFormatException e) {
                    return fallback;
                }
            }
        }
        return fallback;
    }

    private static String json_escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private static void sleep_quietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // Daemon workers so a finished main thread never keeps a stopped server alive.
    private static ThreadFactory daemon_threads() {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, "http-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
