import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    long n = Long.parseLong(t[0]), k = Long.parseLong(t[1]);
    long survivor = 0;  // zero-based survivor among the first i people
    for (long i = 2; i <= n; i++) survivor = (survivor + k) % i;
    System.out.println(survivor + 1);
  }
}
