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
    const t = try readTokens(std.heap.page_allocator);
    const a = try parse(t[0]);
    const b = try parse(t[1]);
    var result: u64 = 1;
    var k = a;
    while (k <= b) : (k += 1) result = result / std.math.gcd(result, k) * k;
    try std.io.getStdOut().writer().print("{d}\n", .{result});
}
