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

fn isPalindrome(n: u64, base: u64) bool {
    var reversed: u64 = 0;
    var m = n;
    while (m > 0) : (m /= base) reversed = reversed * base + m % base;
    return reversed == n;
}

pub fn main() !void {
    const t = try readTokens(std.heap.page_allocator);
    const n = try parse(t[0]);
    const b = try parse(t[1]);
    var count: u64 = 0;
    var k: u64 = 1;
    while (k <= n) : (k += 1) {
        if (isPalindrome(k, 10) and isPalindrome(k, b)) count += 1;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{count});
}
