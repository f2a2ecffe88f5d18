import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    final long mod = 1000000007L;
    String[] t = readTokens();
    int total = Integer.parseInt(t[0]), k = Integer.parseInt(t[1]);
    long[] ways = new long[total + 1];
    ways[0] = 1;
    for (int i = 0; i < k; i++) {
      int coin = Integer.parseInt(t[2 + i]);
      for (int amount = coin; amount <= total; amount++) {
        ways[amount] = (ways[amount] + ways[amount - coin]) % mod;
      }
    }
    System.out.println(ways[total]);
  }
}
