import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    int n = Integer.parseInt(readTokens()[0]);
    boolean[] hit = new boolean[n + 1];
    for (long a = 0; a * a <= n; a++) {
      for (long b = a; a * a + b * b <= n; b++) hit[(int) (a * a + b * b)] = true;
    }
    int count = 0;
    for (int k = 1; k <= n; k++) {
      if (hit[k]) count++;
    }
    System.out.println(count);
  }
}
