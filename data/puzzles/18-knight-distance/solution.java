import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class Main {
  static String[] readTokens() throws IOException {
    String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
    return input.isEmpty() ? new String[0] : input.split("\\s+");
  }

  public static void main(String[] args) throws IOException {
    String[] t = readTokens();
    int n = Integer.parseInt(t[0]);
    int[] distance = new int[n * n];
    java.util.Arrays.fill(distance, -1);
    distance[0] = 0;
    int[] queue = new int[n * n];
    int head = 0, tail = 0;
    queue[tail++] = 0;
    int[] dr = {1, 2, 2, 1, -1, -2, -2, -1};
    int[] dc = {2, 1, -1, -2, -2, -1, 1, 2};
    while (head < tail) {
      int cell = queue[head++];
      int r = cell / n, c = cell % n;
      for (int j = 0; j < 8; j++) {
        int nr = r + dr[j], nc = c + dc[j];
        if (nr < 0 || nr >= n || nc < 0 || nc >= n || t[1 + nr].charAt(nc) != '.') continue;
        if (distance[nr * n + nc] >= 0) continue;
        distance[nr * n + nc] = distance[cell] + 1;
        queue[tail++] = nr * n + nc;
      }
    }
    System.out.println(distance[n * n - 1]);
  }
}
