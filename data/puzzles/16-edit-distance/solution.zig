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
    const a = t[0];
    const b = t[1];
    var previous = try allocator.alloc(usize, b.len + 1);
    var current = try allocator.alloc(usize, b.len + 1);
    for (previous, 0..) |*v, j| v.* = j;
    for (1..a.len + 1) |i| {
        current[0] = i;
        for (1..b.len + 1) |j| {
            const cost: usize = if (a[i - 1] == b[j - 1]) 0 else 1;
            current[j] = @min(@min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
        }
        const swap = previous;
        previous = current;
        current = swap;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{previous[b.len]});
}
