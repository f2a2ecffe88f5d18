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
    int rows = Integer.parseInt(t[0]), cols = Integer.parseInt(t[1]);
    long[] ways = new long[cols];
    for (int r = 0; r < rows; r++) {
      String line = t[2 + r];
      for (int c = 0; c < cols; c++) {
        if (line.charAt(c) == '#') {
          ways[c] = 0;
        } else if (r == 0 && c == 0) {
          ways[c] = 1;
        } else if (c > 0) {
          ways[c] = (ways[c] + ways[c - 1]) % mod;
        }
      }
    }
    System.out.println(ways[cols - 1]);
  }
}
