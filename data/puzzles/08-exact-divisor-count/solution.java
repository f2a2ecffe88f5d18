import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    int n = Integer.parseInt(t[0]), k = Integer.parseInt(t[1]);
    int[] divisors = new int[n + 1];
    for (int d = 1; d <= n; d++) {
      for (int m = d; m <= n; m += d) divisors[m]++;
    }
    int count = 0;
    for (int m = 1; m <= n; m++) {
      if (divisors[m] == k) count++;
    }
    System.out.println(count);
  }
}
