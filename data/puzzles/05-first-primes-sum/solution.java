import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    int n = Integer.parseInt(readTokens()[0]);
    final int limit = 1300000;  // the 100000th prime is 1299709
    boolean[] composite = new boolean[limit + 1];
    long total = 0;
    int count = 0;
    for (int p = 2; p <= limit && count < n; p++) {
      if (composite[p]) continue;
      total += p;
      count++;
      for (long m = (long) p * p; m <= limit; m += p) composite[(int) m] = true;
    }
    System.out.println(total);
  }
}
