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
    var x = try parse(t[1]);
    const m = try parse(t[2]);
    // tails[k]: smallest last element of a rising subsequence of length k+1
    const tails = try allocator.alloc(u64, n);
    var length: usize = 0;
    for (0..n) |_| {
        x = x * 48271 % 2147483647;
        const value = x % m;
        var lo: usize = 0;
        var hi = length;
        while (lo < hi) {
            const mid = (lo + hi) / 2;
            if (tails[mid] < value) lo = mid + 1 else hi = mid;
        }
        tails[lo] = value;
        if (lo == length) length += 1;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{length});
}
