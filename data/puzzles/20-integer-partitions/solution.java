import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  // Euler's pentagonal number theorem:
  // p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
  public static void main(String[] args) throws IOException {
    final long mod = 1000000007L;
    int n = Integer.parseInt(readTokens()[0]);
    long[] p = new long[n + 1];
    p[0] = 1;
    for (int m = 1; m <= n; m++) {
      long total = 0;
      for (long k = 1; ; k++) {
        long first = m - k * (3 * k - 1) / 2;
        if (first < 0) break;
        long term = p[(int) first];
        long second = m - k * (3 * k + 1) / 2;
        if (second >= 0) term += p[(int) second];
        total = k % 2 == 1 ? (total + term) % mod : (total - term % mod + mod) % mod;
      }
      p[m] = total;
    }
    System.out.println(p[n]);
  }
}
