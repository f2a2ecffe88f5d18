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
    const k: usize = @intCast(try parse(t[0]));
    const digits = try std.mem.concat(allocator, u8, t[1..]);
    var best: u64 = 0;
    var start: usize = 0;
    while (start + k <= digits.len) : (start += 1) {
        var product: u64 = 1;
        for (digits[start .. start + k]) |ch| product *= ch - '0';
        best = @max(best, product);
    }
    try std.io.getStdOut().writer().print("{d}\n", .{best});
}
