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
    const n: i64 = @intCast(try parse(t[0]));
    const cells: usize = @intCast(n * n);
    const distance = try allocator.alloc(i64, cells);
    @memset(distance, -1);
    const queue = try allocator.alloc(i64, cells);
    distance[0] = 0;
    queue[0] = 0;
    var head: usize = 0;
    var tail: usize = 1;
    const dr = [_]i64{ 1, 2, 2, 1, -1, -2, -2, -1 };
    const dc = [_]i64{ 2, 1, -1, -2, -2, -1, 1, 2 };
    while (head < tail) : (head += 1) {
        const cell = queue[head];
        const r = @divTrunc(cell, n);
        const c = @mod(cell, n);
        for (dr, dc) |jr, jc| {
            const nr = r + jr;
            const nc = c + jc;
            if (nr < 0 or nr >= n or nc < 0 or nc >= n) continue;
            if (t[@intCast(1 + nr)][@intCast(nc)] != '.') continue;
            const next: usize = @intCast(nr * n + nc);
            if (distance[next] >= 0) continue;
            distance[next] = distance[@intCast(cell)] + 1;
            queue[tail] = @intCast(next);
            tail += 1;
        }
    }
    try std.io.getStdOut().writer().print("{d}\n", .{distance[cells - 1]});
}
