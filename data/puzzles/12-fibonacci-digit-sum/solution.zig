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

const base: u64 = 1000000000;

// x + y; numbers are little-endian limbs of base 10^9.
fn add(allocator: std.mem.Allocator, x: []const u64, y: []const u64) ![]u64 {
    var sum = std.ArrayList(u64).init(allocator);
    var carry: u64 = 0;
    var i: usize = 0;
    while (i < x.len or i < y.len or carry > 0) : (i += 1) {
        var limb = carry;
        if (i < x.len) limb += x[i];
        if (i < y.len) limb += y[i];
        carry = limb / base;
        try sum.append(limb % base);
    }
    return sum.items;
}

pub fn main() !void {
    var arena = std.heap.ArenaAllocator.init(std.heap.page_allocator);
    defer arena.deinit();
    const allocator = arena.allocator();
    const t = try readTokens(allocator);
    const n = try parse(t[0]);
    var a: []const u64 = &[_]u64{1};
    var b: []const u64 = &[_]u64{1};
    var i: u64 = 1;
    while (i < n) : (i += 1) {
        const next = try add(allocator, a, b);
        a = b;
        b = next;
    }
    var digit_sum: u64 = 0;
    for (a) |limb| {
        var rest = limb;
        while (rest > 0) : (rest /= 10) digit_sum += rest % 10;
    }
    try std.io.getStdOut().writer().print("{d}\n", .{digit_sum});
}
