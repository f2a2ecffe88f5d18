// Framing of multipart messages and the sandbox message types.
#include <zmq.h>

#include "gtest/gtest.h"
#include "wire/message.h"
#include "wire/sandbox_messages.h"

namespace lockstep::wire {
namespace {

TEST(MessageTest, EncodeDecodeKeepsRawBytes) {
  Message message;
  message.header = {{"type", "test"}, {"n", 3}};
  const std::string binary("a\0b\xff", 4);
  message.frames = {binary, ""};
  auto decoded = DecodeMessage(EncodeMessage(message));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->header["type"], "test");
  EXPECT_EQ(decoded->header["version"], kWireVersion);
  EXPECT_EQ(decoded->header["n"], 3);
  ASSERT_EQ(decoded->frames.size(), 2u);
  EXPECT_EQ(decoded->frames[0], binary);
  EXPECT_EQ(decoded->frames[1], "");
}

TEST(MessageTest, RejectsBadHeaders) {
  EXPECT_FALSE(DecodeMessage({}).ok());
  EXPECT_FALSE(DecodeMessage({"not json"}).ok());
  EXPECT_FALSE(DecodeMessage({R"({"version":1})"}).ok());
  auto wrong_version = DecodeMessage({R"({"type":"x","version":999})"});
  ASSERT_FALSE(wrong_version.ok());
  EXPECT_NE(wrong_version.status().message().find("999"), std::string::npos);
}

TEST(SandboxMessagesTest, RunRoundTrip) {
  SandboxRunMessage run;
  run.id = 42;
  run.language = "python";
  run.limits = {{"cpu_time_s", 1.5}};
  run.source = "print(1)\n";
  run.stdin_data = std::string("\0in", 3);
  run.expected_stdout = "1\n";
  auto decoded = DecodeSandboxRun(*DecodeMessage(EncodeMessage(Encode(run))));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->id, 42u);
  EXPECT_EQ(decoded->language, "python");
  EXPECT_EQ(decoded->limits["cpu_time_s"], 1.5);
  EXPECT_EQ(decoded->source, run.source);
  EXPECT_EQ(decoded->stdin_data, run.stdin_data);
  EXPECT_EQ(decoded->expected_stdout, "1\n");
  run.expected_stdout.reset();
  decoded = DecodeSandboxRun(*DecodeMessage(EncodeMessage(Encode(run))));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->expected_stdout.has_value());
}

TEST(SandboxMessagesTest, ResultRoundTripAndTypeCheck) {
  SandboxResultMessage result;
  result.id = 7;
  result.result = {{"status", "ok"}};
  result.stdout_data = "out";
  result.stderr_data = "err";
  const Message message = *DecodeMessage(EncodeMessage(Encode(result)));
  auto decoded = DecodeSandboxResult(message);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->id, 7u);
  EXPECT_EQ(decoded->result["status"], "ok");
  EXPECT_EQ(decoded->stdout_data, "out");
  EXPECT_EQ(decoded->stderr_data, "err");
  EXPECT_FALSE(DecodeSandboxRun(message).ok());  // a result is not a run request
}

TEST(SocketTest, MultipartOverInproc) {
  void* context = zmq_ctx_new();
  void* a = zmq_socket(context, ZMQ_PAIR);
  void* b = zmq_socket(context, ZMQ_PAIR);
  ASSERT_EQ(zmq_bind(a, "inproc://wire-test"), 0);
  ASSERT_EQ(zmq_connect(b, "inproc://wire-test"), 0);
  EXPECT_TRUE(absl::IsUnavailable(ReceiveFrames(b, /*dont_wait=*/true).status()));
  const std::vector<std::string> frames = {"header", std::string(1 << 20, 'x'), ""};
  ASSERT_TRUE(SendFrames(a, frames, false).ok());
  auto received = ReceiveFrames(b, false);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, frames);
  zmq_close(a);
  zmq_close(b);
  zmq_ctx_term(context);
}

}  // namespace
}  // namespace lockstep::wire
