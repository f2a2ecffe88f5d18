import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  // Sum of the multiples of d in [1, n].
  static long total(long n, long d) {
    long m = n / d;
    return d * m * (m + 1) / 2;
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    long n = Long.parseLong(t[0]), a = Long.parseLong(t[1]), b = Long.parseLong(t[2]);
    long both = a / gcd(a, b) * b;
    System.out.println(total(n, a) + total(n, b) - total(n, both));
  }
}
