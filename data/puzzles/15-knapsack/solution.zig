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
    const capacity: usize = @intCast(try parse(t[0]));
    const n: usize = @intCast(try parse(t[1]));
    const best = try allocator.alloc(u64, capacity + 1);
    @memset(best, 0);
    for (0..n) |i| {
        const weight: usize = @intCast(try parse(t[2 + 2 * i]));
        const value = try parse(t[3 + 2 * i]);
        if (weight > capacity) continue;
        var w = capacity;
        while (w >= weight) : (w -= 1) {
            best[w] = @max(best[w], best[w - weight] + value);
            if (w == 0) break;
        }
    }
    try std.io.getStdOut().writer().print("{d}\n", .{best[capacity]});
}
