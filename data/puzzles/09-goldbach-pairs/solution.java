import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    int q = Integer.parseInt(t[0]);
    int[] queries = new int[q];
    int limit = 0;
    for (int i = 0; i < q; i++) {
      queries[i] = Integer.parseInt(t[1 + i]);
      limit = Math.max(limit, queries[i]);
    }
    boolean[] composite = new boolean[limit + 1];
    composite[0] = composite[1] = true;
    for (int p = 2; (long) p * p <= limit; p++) {
      if (composite[p]) continue;
      for (int m = p * p; m <= limit; m += p) composite[m] = true;
    }
    StringBuilder out = new StringBuilder();
    for (int m : queries) {
      int pairs = 0;
      for (int p = 2; p <= m / 2; p++) {
        if (!composite[p] && !composite[m - p]) pairs++;
      }
      out.append(pairs).append('\n');
    }
    System.out.print(out);
  }
}
