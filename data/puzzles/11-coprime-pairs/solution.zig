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
    const phi = try allocator.alloc(u64, n + 1);
    for (phi, 0..) |*v, i| v.* = i;
    var p: usize = 2;
    while (p <= n) : (p += 1) {
        if (phi[p] != p) continue; // not prime: a smaller prime already touched it
        var m = p;
        while (m <= n) : (m += p) phi[m] -= phi[m] / p;
    }
    var sum: u64 = 0;
    for (phi[1..]) |v| sum += v;
    try std.io.getStdOut().writer().print("{d}\n", .{2 * sum - 1});
}
