import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  static final long BASE = 1000000000L;

  // x + y; numbers are little-endian limbs of base 10^9.
  static long[] add(long[] x, long[] y) {
    long[] sum = new long[Math.max(x.length, y.length) + 1];
    long carry = 0;
    for (int i = 0; i < sum.length; i++) {
      long limb = carry + (i < x.length ? x[i] : 0) + (i < y.length ? y[i] : 0);
      carry = limb / BASE;
      sum[i] = limb % BASE;
    }
    return sum[sum.length - 1] == 0 ? java.util.Arrays.copyOf(sum, sum.length - 1) : sum;
  }

  public static void main(String[] args) throws IOException {
    int n = Integer.parseInt(readTokens()[0]);
    long[] a = {1}, b = {1};
    for (int i = 1; i < n; i++) {
      long[] next = add(a, b);
      a = b;
      b = next;
    }
    long digitSum = 0;
    for (long limb : a) {
      for (; limb > 0; limb /= 10) digitSum += limb % 10;
    }
    System.out.println(digitSum);
  }
}
