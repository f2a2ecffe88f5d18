import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    int capacity = Integer.parseInt(t[0]), n = Integer.parseInt(t[1]);
    long[] best = new long[capacity + 1];
    for (int i = 0; i < n; i++) {
      int weight = Integer.parseInt(t[2 + 2 * i]);
      long value = Long.parseLong(t[3 + 2 * i]);
      for (int w = capacity; w >= weight; w--) best[w] = Math.max(best[w], best[w - weight] + value);
    }
    System.out.println(best[capacity]);
  }
}
