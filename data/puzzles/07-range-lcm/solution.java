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

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    long a = Long.parseLong(t[0]), b = Long.parseLong(t[1]);
    long result = 1;
    for (long k = a; k <= b; k++) result = result / gcd(result, k) * k;
    System.out.println(result);
  }
}
