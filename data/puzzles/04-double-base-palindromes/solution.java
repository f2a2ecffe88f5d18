import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  static boolean isPalindrome(int n, int base) {
    int reversed = 0;
    for (int m = n; m > 0; m /= base) reversed = reversed * base + m % base;
    return reversed == n;
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    int n = Integer.parseInt(t[0]), b = Integer.parseInt(t[1]);
    int count = 0;
    for (int k = 1; k <= n; k++) {
      if (isPalindrome(k, 10) && isPalindrome(k, b)) count++;
    }
    System.out.println(count);
  }
}
