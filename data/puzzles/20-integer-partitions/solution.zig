const std = @import("std");

fn readTokens(allocator: std.mem.Allocator) ![][]const u8 {
    const input = try std.io.getStdIn().reader().readAllAlloc(allocator, 1 << 26);
    var tokens = std.ArrayList([]const u8).init(allocator);
    var it = std.mem.tokenizeAny(u8, input, " \t\r\n");
    while (it.next()) |token| try tokens.append(token);
    return tokens.items;
}

fn parse(token: []const u8) !u64 {
    return std.fmt.parseInt(u64, token, 10);
}

const modulus: u64 = 1000000007;

// Euler's pentagonal number theorem:
// p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
pub fn main() !void {
    const allocator = std.heap.page_allocator;
    const t = try readTokens(allocator);
    const n: usize = @intCast(try parse(t[0]));
    const p = try allocator.alloc(u64, n + 1);
    @memset(p, 0);
    p[0] = 1;
    for (1..n + 1) |m| {
        var total: u64 = 0;
        var k: usize = 1;
        while (k * (3 * k - 1) / 2 <= m) : (k += 1) {
            var term = p[m - k * (3 * k - 1) / 2];
            const second = k * (3 * k + 1) / 2;
            if (second <= m) term += p[m - second];
            if (k % 2 == 1) {
                total = (total + term) % modulus;
            } else {
                total = (total + modulus - term % modulus) % modulus;
            }
        }
        p[m] = total;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{p[n]});
}
