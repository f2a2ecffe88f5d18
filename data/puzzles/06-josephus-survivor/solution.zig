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
    const n = try parse(t[0]);
    const k = try parse(t[1]);
    var survivor: u64 = 0; // zero-based survivor among the first i people
    var i: u64 = 2;
    while (i <= n) : (i += 1) survivor = (survivor + k) % i;
    try std.io.getStdOut().writer().print("{d}\n", .{survivor + 1});
}
