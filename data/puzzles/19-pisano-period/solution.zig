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

fn period(m: u64) u64 {
    var a: u64 = 0;
    var b: u64 = 1;
    var steps: u64 = 0;
    while (true) {
        const next = (a + b) % m;
        a = b;
        b = next;
        steps += 1;
        if (a == 0 and b == 1) return steps;
    }
}

pub fn main() !void {
    const t = try readTokens(std.heap.page_allocator);
    const q: usize = @intCast(try parse(t[0]));
    const out = std.io.getStdOut().writer();
    for (t[1 .. 1 + q]) |token| try out.print("{d}\n", .{period(try parse(token))});
}
