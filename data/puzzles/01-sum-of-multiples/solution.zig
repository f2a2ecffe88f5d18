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

// Sum of the multiples of d in [1, n].
fn total(n: u64, d: u64) u64 {
    const m = n / d;
    return d * m * (m + 1) / 2;
}

pub fn main() !void {
    const t = try readTokens(std.heap.page_allocator);
    const n = try parse(t[0]);
    const a = try parse(t[1]);
    const b = try parse(t[2]);
    const both = a / std.math.gcd(a, b) * b;
    try std.io.getStdOut().writer().print("{d}\n", .{total(n, a) + total(n, b) - total(n, both)});
}
