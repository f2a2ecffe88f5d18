const std = @import("std");

pub fn main() !void {
    var gpa = std.heap.GeneralPurposeAllocator(.{}){};
    defer _ = gpa.deinit();
    const allocator = gpa.allocator();
    const input = try std.io.getStdIn().reader().readAllAlloc(allocator, 1 << 20);
    defer allocator.free(input);
    var total: i64 = 0;
    var it = std.mem.tokenizeAny(u8, input, " \t\r\n");
    while (it.next()) |token| {
        total += try std.fmt.parseInt(i64, token, 10);
    }
    try std.io.getStdOut().writer().print("{d}\n", .{total});
}
