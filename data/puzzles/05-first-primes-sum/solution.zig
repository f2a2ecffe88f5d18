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
    const n = try parse(t[0]);
    const limit: usize = 1300000; // the 100000th prime is 1299709
    const composite = try allocator.alloc(bool, limit + 1);
    @memset(composite, false);
    var sum: u64 = 0;
    var count: u64 = 0;
    var p: usize = 2;
    while (p <= limit and count < n) : (p += 1) {
        if (composite[p]) continue;
        sum += p;
        count += 1;
        var m = p * p;
        while (m <= limit) : (m += p) composite[m] = true;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{sum});
}
