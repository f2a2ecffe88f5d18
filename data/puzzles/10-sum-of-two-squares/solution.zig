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
    const hit = try allocator.alloc(bool, n + 1);
    @memset(hit, false);
    var a: usize = 0;
    while (a * a <= n) : (a += 1) {
        var b = a;
        while (a * a + b * b <= n) : (b += 1) hit[a * a + b * b] = true;
    }
    var count: u64 = 0;
    for (hit[1..]) |h| {
        if (h) count += 1;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{count});
}
