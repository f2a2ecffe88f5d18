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
    const q: usize = @intCast(try parse(t[0]));
    const queries = try allocator.alloc(usize, q);
    var limit: usize = 0;
    for (queries, 0..) |*m, i| {
        m.* = @intCast(try parse(t[1 + i]));
        limit = @max(limit, m.*);
    }
    const composite = try allocator.alloc(bool, limit + 1);
    @memset(composite, false);
    composite[0] = true;
    composite[1] = true;
    var p: usize = 2;
    while (p * p <= limit) : (p += 1) {
        if (composite[p]) continue;
        var m = p * p;
        while (m <= limit) : (m += p) composite[m] = true;
    }
    const out = std.io.getStdOut().writer();
    for (queries) |m| {
        var pairs: u64 = 0;
        var a: usize = 2;
        while (a <= m / 2) : (a += 1) {
            if (!composite[a] and !composite[m - a]) pairs += 1;
        }
        try out.print("{d}\n", .{pairs});
    }
}
