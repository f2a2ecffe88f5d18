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

pub fn main() !void {
    const allocator = std.heap.page_allocator;
    const t = try readTokens(allocator);
    const n: usize = @intCast(try parse(t[0]));
    const k = try parse(t[1]);
    const divisors = try allocator.alloc(u64, n + 1);
    @memset(divisors, 0);
    var d: usize = 1;
    while (d <= n) : (d += 1) {
        var m = d;
        while (m <= n) : (m += d) divisors[m] += 1;
    }
    var count: u64 = 0;
    for (divisors[1..]) |c| {
        if (c == k) count += 1;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{count});
}
