import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    int k = Integer.parseInt(t[0]);
    StringBuilder digits = new StringBuilder();
    for (int i = 1; i < t.length; i++) digits.append(t[i]);
    long best = 0;
    for (int start = 0; start + k <= digits.length(); start++) {
      long product = 1;
      for (int i = 0; i < k; i++) product *= digits.charAt(start + i) - '0';
      best = Math.max(best, product);
    }
    System.out.println(best);
  }
}
