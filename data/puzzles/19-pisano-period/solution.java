import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  static long period(long m) {
    long a = 0, b = 1, steps = 0;
    do {
      long next = (a + b) % m;
      a = b;
      b = next;
      steps++;
    } while (!(a == 0 && b == 1));
    return steps;
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    int q = Integer.parseInt(t[0]);
    for (int i = 0; i < q; i++) System.out.println(period(Long.parseLong(t[1 + i])));
  }
}
