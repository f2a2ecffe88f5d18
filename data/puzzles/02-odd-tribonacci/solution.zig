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
    var sum: u64 = if (n >= 1) 2 else 0; // T1 and T2
    var a: u64 = 1;
    var b: u64 = 1;
    var c: u64 = 2;
    while (c <= n) {
        if (c % 2 == 1) sum += c;
        const next = a + b + c;
        a = b;
        b = c;
        c = next;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{sum});
}
