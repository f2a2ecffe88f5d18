import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    int n = Integer.parseInt(readTokens()[0]);
    long[] phi = new long[n + 1];
    for (int i = 0; i <= n; i++) phi[i] = i;
    for (int p = 2; p <= n; p++) {
      if (phi[p] != p) continue;  // not prime: a smaller prime already touched it
      for (int m = p; m <= n; m += p) phi[m] -= phi[m] / p;
    }
    long sum = 0;
    for (int i = 1; i <= n; i++) sum += phi[i];
    System.out.println(2 * sum - 1);
  }
}
