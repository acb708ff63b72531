// A real keep-alive client beside wrk: Java's java.net.http.HttpClient (HTTP/1.1).
//
//   java bench/lib/KeepAliveClient.java URL RATE OUT
//
// Alternates GET / and POST /echo, RATE requests a second, one at a time
// through one HttpClient (its own keep-alive pool), as a Java application
// would. The client's own retry rules apply. Appends one line per request
// to OUT (flushed): method,epoch_ms,status,version,error. Runs until killed.
import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public final class KeepAliveClient {
    public static void main(String[] args) throws Exception {
        URI base = URI.create(args[0]);
        double rate = Double.parseDouble(args[1]);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest get = HttpRequest.newBuilder(base.resolve("/")).timeout(Duration.ofSeconds(30)).GET().build();
        HttpRequest post = HttpRequest.newBuilder(base.resolve("/echo")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"greeting\":\"hello\",\"n\":12345}")).build();
        try (PrintWriter out = new PrintWriter(new FileWriter(args[2], true), true)) {
            long start = System.nanoTime();
            for (long i = 0;; ++i) {
                long due = start + (long) (i * 1e9 / rate);
                long delay = due - System.nanoTime();
                if (delay > 0) {
                    Thread.sleep(delay / 1_000_000, (int) (delay % 1_000_000));
                }
                boolean is_get = i % 2 == 0;
                int status = 0;
                String version = "";
                String error = "";
                try {
                    HttpResponse<String> response = client.send(is_get ? get : post, HttpResponse.BodyHandlers.ofString());
                    status = response.statusCode();
                    version = response.headers().firstValue("X-App-Version").orElse("");
                } catch (IOException e) {
                    error = e.getClass().getSimpleName();
                }
                out.println((is_get ? "GET" : "POST") + "," + System.currentTimeMillis() + "," + status + ","
                        + version + "," + error);
            }
        }
    }
}
