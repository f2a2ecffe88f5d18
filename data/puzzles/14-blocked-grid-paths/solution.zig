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
    const rows: usize = @intCast(try parse(t[0]));
    const cols: usize = @intCast(try parse(t[1]));
    const ways = try allocator.alloc(u64, cols);
    @memset(ways, 0);
    for (0..rows) |r| {
        const line = t[2 + r];
        for (0..cols) |c| {
            if (line[c] == '#') {
                ways[c] = 0;
            } else if (r == 0 and c == 0) {
                ways[c] = 1;
            } else if (c > 0) {
                ways[c] = (ways[c] + ways[c - 1]) % modulus;
            }
        }
    }
    try std.io.getStdOut().writer().print("{d}\n", .{ways[cols - 1]});
}
