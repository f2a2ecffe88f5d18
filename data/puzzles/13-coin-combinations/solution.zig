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

const modulus: u64 = 1000000007;

pub fn main() !void {
    const allocator = std.heap.page_allocator;
    const t = try readTokens(allocator);
    const total: usize = @intCast(try parse(t[0]));
    const k: usize = @intCast(try parse(t[1]));
    const ways = try allocator.alloc(u64, total + 1);
    @memset(ways, 0);
    ways[0] = 1;
    for (t[2 .. 2 + k]) |token| {
        const coin: usize = @intCast(try parse(token));
        var amount = coin;
        while (amount <= total) : (amount += 1) {
            ways[amount] = (ways[amount] + ways[amount - coin]) % modulus;
        }
    }
    try std.io.getStdOut().writer().print("{d}\n", .{ways[total]});
}
