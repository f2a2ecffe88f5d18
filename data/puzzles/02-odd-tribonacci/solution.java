import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    long n = Long.parseLong(readTokens()[0]);
    long total = n >= 1 ? 2 : 0;  // T1 and T2
    long a = 1, b = 1, c = 2;
    while (c <= n) {
      if (c % 2 == 1) total += c;
      long next = a + b + c;
      a = b;
      b = c;
      c = next;
    }
    System.out.println(total);
  }
}
