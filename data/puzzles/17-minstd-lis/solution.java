import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    long n = Long.parseLong(t[0]), x = Long.parseLong(t[1]), m = Long.parseLong(t[2]);
    // tails[k]: smallest last element of a rising subsequence of length k+1
    long[] tails = new long[(int) n];
    int length = 0;
    for (long i = 0; i < n; i++) {
      x = x * 48271 % 2147483647L;
      long value = x % m;
      int lo = 0, hi = length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (tails[mid] < value) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      tails[lo] = value;
      if (lo == length) length++;
    }
    System.out.println(length);
  }
}
