// Rollout message round trips (bulk data bit-exact), rejection of malformed
// messages, the hash definitions, and zero-copy frames over a real socket.
#include "wire/rollout_messages.h"

#include <xxhash.h>
#include <zmq.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "gtest/gtest.h"
#include "wire/bulk_frames.h"
#include "wire/message.h"
#include "wire/weight_hash.h"

namespace lockstep::wire {
namespace {

Message RoundTrip(const Message& message) { return *DecodeMessage(EncodeMessage(message)); }

TEST(RolloutMessagesTest, GenerateRoundTrip) {
  GenerateMessage generate;
  generate.batch_id = 77;
  generate.weight_version = 5;
  generate.requests.push_back(
      GenerateItem{.request_id = 3,
                   .sample_index = 2,
                   .num_samples = 4,
                   .max_new_tokens = 19,
                   .sampling = {.temperature = 0.7f, .top_k = 12, .top_p = 0.95f},
                   .seed = 0xFFFFFFFFFFFFFFFFull,
                   .stop_tokens = {2, 9},
                   .prompt = {1, 2, 3, -1, 2147483647}});
  GenerateItem second;
  second.request_id = 4;
  second.prompt = {8};
  generate.requests.push_back(second);
  auto decoded = DecodeGenerate(RoundTrip(Encode(generate)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->batch_id, 77u);
  EXPECT_EQ(decoded->weight_version, 5);
  ASSERT_EQ(decoded->requests.size(), 2u);
  const GenerateItem& a = decoded->requests[0];
  EXPECT_EQ(a.request_id, 3u);
  EXPECT_EQ(a.sample_index, 2u);
  EXPECT_EQ(a.num_samples, 4u);
  EXPECT_EQ(a.max_new_tokens, 19);
  EXPECT_EQ(std::bit_cast<uint32_t>(a.sampling.temperature), std::bit_cast<uint32_t>(0.7f));
  EXPECT_EQ(std::bit_cast<uint32_t>(a.sampling.top_p), std::bit_cast<uint32_t>(0.95f));
  EXPECT_EQ(a.sampling.top_k, 12);
  EXPECT_EQ(a.seed, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(a.stop_tokens, (std::vector<int32_t>{2, 9}));
  EXPECT_EQ(a.prompt, generate.requests[0].prompt);
  EXPECT_EQ(decoded->requests[1].prompt, std::vector<int32_t>{8});
}

TEST(RolloutMessagesTest, GenerateRejectsWrongFrameCountAndBadFields) {
  GenerateMessage generate;
  generate.requests.resize(2);
  generate.requests[0].prompt = {1};
  generate.requests[1].prompt = {2};
  Message message = RoundTrip(Encode(generate));
  message.frames.pop_back();
  auto missing = DecodeGenerate(message);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("1 payload frames"), std::string::npos)
      << missing.status();
  message = RoundTrip(Encode(generate));
  message.frames[1] = "abc";  // not a whole number of int32
  EXPECT_FALSE(DecodeGenerate(message).ok());
  message = RoundTrip(Encode(generate));
  message.header["requests"][0]["seed"] = -1;
  auto bad_seed = DecodeGenerate(message);
  ASSERT_FALSE(bad_seed.ok());
  EXPECT_NE(bad_seed.status().message().find("'seed'"), std::string::npos) << bad_seed.status();
  message = RoundTrip(Encode(generate));
  message.header["requests"][1].erase("sampling");
  EXPECT_FALSE(DecodeGenerate(message).ok());
  EXPECT_FALSE(DecodeResult(RoundTrip(Encode(generate))).ok());  // a generate is not a result
}

TEST(RolloutMessagesTest, ResultKeepsLogprobBitsExactly) {
  ResultMessage result;
  result.batch_id = 9;
  const std::vector<float> logprobs = {-0.0f, -1e-45f, -std::numeric_limits<float>::infinity(),
                                       std::bit_cast<float>(0xFFC00123u), -3.14159274f};
  result.results.push_back(SampleResult{.request_id = 1,
                                        .sample_index = 2,
                                        .tokens = {5, 6, 7, 8, 9},
                                        .logprobs = logprobs,
                                        .finish_reason = "stop",
                                        .weight_version = 12});
  SampleResult empty;
  empty.request_id = 3;
  empty.finish_reason = "length";
  result.results.push_back(empty);
  auto decoded = DecodeResult(RoundTrip(Encode(result)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->results.size(), 2u);
  const SampleResult& r = decoded->results[0];
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{5, 6, 7, 8, 9}));
  ASSERT_EQ(r.logprobs.size(), logprobs.size());
  for (size_t i = 0; i < logprobs.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint32_t>(r.logprobs[i]), std::bit_cast<uint32_t>(logprobs[i])) << i;
  }
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.weight_version, 12);
  EXPECT_TRUE(decoded->results[1].tokens.empty());
  EXPECT_FALSE(decoded->error.has_value());

  Message mismatched = RoundTrip(Encode(result));
  mismatched.frames[1].resize(8);  // 2 logprobs for 5 tokens
  EXPECT_FALSE(DecodeResult(mismatched).ok());
}

TEST(RolloutMessagesTest, ErrorResultRoundTrip) {
  ResultMessage result;
  result.batch_id = 4;
  result.error =
      RolloutError{.code = kStaleWeightsError, .message = "version 3, not 2", .weight_version = 3};
  auto decoded = DecodeResult(RoundTrip(Encode(result)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(decoded->error.has_value());
  EXPECT_EQ(decoded->error->code, "stale_weights");
  EXPECT_EQ(decoded->error->weight_version, 3);
  EXPECT_EQ(decoded->batch_id, 4u);
}

struct BucketFixture {
  std::vector<std::string> bytes = {std::string("\x01\x02\x03\x04\x05\x06", 6),
                                    std::string(16, '\x7f')};
  WeightsBucket bucket;
  BucketFixture() {
    bucket.weight_version = 3;
    bucket.bucket_index = 0;
    bucket.num_buckets = 2;
    bucket.model_config = {{"model_type", "llama"}};
    bucket.dtype = "bf16";
    bucket.tensors = {
        TensorEntry{.name = "a", .dtype = "bf16", .shape = {3}, .xxh64 = TensorHash(bytes[0])},
        TensorEntry{.name = "b", .dtype = "bf16", .shape = {2, 4}, .xxh64 = TensorHash(bytes[1])}};
  }
  Message Encoded() const {
    std::vector<std::string_view> views(bytes.begin(), bytes.end());
    return RoundTrip(Encode(bucket, views));
  }
};

std::vector<std::string_view> Views(const Message& message) {
  return std::vector<std::string_view>(message.frames.begin(), message.frames.end());
}

TEST(RolloutMessagesTest, WeightsBucketRoundTrip) {
  BucketFixture f;
  const Message message = f.Encoded();
  auto decoded = DecodeWeightsBucket(message.header, Views(message));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->weight_version, 3);
  EXPECT_EQ(decoded->num_buckets, 2u);
  EXPECT_EQ(decoded->model_config["model_type"], "llama");
  ASSERT_EQ(decoded->tensors.size(), 2u);
  EXPECT_EQ(decoded->tensors[1].name, "b");
  EXPECT_EQ(decoded->tensors[1].shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(decoded->tensors[1].xxh64, TensorHash(f.bytes[1]));
  EXPECT_TRUE(CheckTensorHashes(*decoded, Views(message)).ok());
  EXPECT_EQ(message.header["tensors"][0]["xxh64"].get<std::string>().size(), 16u);
}

TEST(RolloutMessagesTest, WeightsBucketRejectsMissingFrameSizeMismatchAndBadHash) {
  BucketFixture f;
  Message truncated = f.Encoded();
  truncated.frames.pop_back();
  auto missing = DecodeWeightsBucket(truncated.header, Views(truncated));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("1 payload frames"), std::string::npos)
      << missing.status();

  Message short_frame = f.Encoded();
  short_frame.frames[1].pop_back();
  std::string bad_tensor;
  auto size = DecodeWeightsBucket(short_frame.header, Views(short_frame), &bad_tensor);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(bad_tensor, "b");
  EXPECT_NE(size.status().message().find("tensor 'b' has 15 bytes"), std::string::npos)
      << size.status();

  Message corrupted = f.Encoded();
  corrupted.frames[1][7] ^= 0x20;
  auto decoded = DecodeWeightsBucket(corrupted.header, Views(corrupted));
  ASSERT_TRUE(decoded.ok()) << decoded.status();  // structure is fine; the bytes are not
  const absl::Status hash = CheckTensorHashes(*decoded, Views(corrupted));
  ASSERT_FALSE(hash.ok());
  EXPECT_NE(hash.message().find("tensor 'b'"), std::string::npos) << hash;

  Message no_config = f.Encoded();
  no_config.header["model_config"] = nullptr;
  EXPECT_FALSE(DecodeWeightsBucket(no_config.header, Views(no_config)).ok());
  Message bad_dtype = f.Encoded();
  bad_dtype.header["tensors"][0]["dtype"] = "int8";
  EXPECT_FALSE(DecodeWeightsBucket(bad_dtype.header, Views(bad_dtype)).ok());
  Message bad_hex = f.Encoded();
  bad_hex.header["tensors"][0]["xxh64"] = "xyz";
  EXPECT_FALSE(DecodeWeightsBucket(bad_hex.header, Views(bad_hex)).ok());
}

TEST(RolloutMessagesTest, AcksCommitAndStatusRoundTrip) {
  auto bucket_ack = DecodeWeightsBucketAck(RoundTrip(Encode(WeightsBucketAck{
      .weight_version = 2, .bucket_index = 5, .ok = false, .error = "bad hash", .tensor = "x"})));
  ASSERT_TRUE(bucket_ack.ok()) << bucket_ack.status();
  EXPECT_EQ(bucket_ack->bucket_index, 5u);
  EXPECT_FALSE(bucket_ack->ok);
  EXPECT_EQ(bucket_ack->tensor, "x");

  auto commit = DecodeWeightsCommit(
      RoundTrip(Encode(WeightsCommit{.weight_version = 2, .set_hash = 0x0123456789abcdefull})));
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(commit->set_hash, 0x0123456789abcdefull);

  auto ack = DecodeWeightsAck(
      RoundTrip(Encode(WeightsAck{.weight_version = 2, .set_hash = 42, .error = std::nullopt})));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->set_hash, 42u);
  EXPECT_FALSE(ack->error.has_value());
  auto refused = DecodeWeightsAck(RoundTrip(Encode(
      WeightsAck{.weight_version = 2,
                 .error = RolloutError{.code = kBadWeightsError, .message = "bucket 1 missing"}})));
  ASSERT_TRUE(refused.ok()) << refused.status();
  ASSERT_TRUE(refused->error.has_value());
  EXPECT_EQ(refused->error->message, "bucket 1 missing");

  auto request = DecodeStatusRequest(RoundTrip(Encode(StatusRequest{.ping_id = 8})));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->ping_id, 8u);
  auto reply = DecodeStatusReply(RoundTrip(Encode(StatusReply{.ping_id = 8,
                                                              .instance_id = "abc",
                                                              .pid = 123,
                                                              .weight_version = -1,
                                                              .running = 2,
                                                              .waiting = 3,
                                                              .steps = 99})));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->instance_id, "abc");
  EXPECT_EQ(reply->weight_version, -1);
  EXPECT_EQ(reply->steps, 99);
  EXPECT_FALSE(DecodeStatusReply(RoundTrip(Encode(StatusRequest{.ping_id = 8}))).ok());
}

TEST(WeightHashTest, DefinitionsArePinned) {
  const std::string bytes = "lockstep";
  EXPECT_EQ(TensorHash(bytes), XXH64(bytes.data(), bytes.size(), 0));
  EXPECT_EQ(HashToHex(0x00000000000000ffull), "00000000000000ff");
  EXPECT_EQ(*HashFromHex("0123456789abcdef"), 0x0123456789abcdefull);
  EXPECT_FALSE(HashFromHex("0123456789ABCDEF").ok());
  EXPECT_FALSE(HashFromHex("123").ok());
  // The set hash is XXH64 of name '\0' hex16 for each tensor, concatenated.
  const std::vector<std::pair<std::string, uint64_t>> set = {{"a", 1},
                                                             {"bb", 0xfedcba9876543210ull}};
  const std::string concatenated =
      std::string("a\0", 2) + "0000000000000001" + std::string("bb\0", 3) + "fedcba9876543210";
  EXPECT_EQ(WeightSetHash(set), XXH64(concatenated.data(), concatenated.size(), 0));
  const std::vector<std::pair<std::string, uint64_t>> swapped = {set[1], set[0]};
  EXPECT_NE(WeightSetHash(swapped), WeightSetHash(set));  // order matters
}

TEST(WeightHashTest, CopyAndHashEqualsTensorHashAcrossChunks) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{131071}, size_t{131072}, size_t{300001}}) {
    std::string src(size, '\0');
    for (size_t i = 0; i < size; ++i) src[i] = static_cast<char>((i * 2654435761u) >> 13);
    std::string dst(size, '\x55');
    EXPECT_EQ(CopyAndHash(src, dst.data()), TensorHash(src)) << size;
    EXPECT_EQ(dst, src) << size;
  }
}

TEST(RolloutMessagesTest, DTypeBytes) {
  EXPECT_EQ(*DTypeBytes("fp32"), 4u);
  EXPECT_EQ(*DTypeBytes("bf16"), 2u);
  EXPECT_EQ(*DTypeBytes("fp16"), 2u);
  EXPECT_FALSE(DTypeBytes("float32").ok());
}

TEST(BulkFramesTest, BorrowedFramesArriveIntactAndReleaseTheirOwner) {
  void* context = zmq_ctx_new();
  void* a = zmq_socket(context, ZMQ_PAIR);
  void* b = zmq_socket(context, ZMQ_PAIR);
  ASSERT_EQ(zmq_bind(a, "inproc://bulk-test"), 0);
  ASSERT_EQ(zmq_connect(b, "inproc://bulk-test"), 0);
  auto owner = std::make_shared<std::string>(std::string(1 << 20, 'z') + "end");
  const BorrowedFrame frames[] = {{owner->data(), owner->size()}, {owner->data(), 3}, {nullptr, 0}};
  ASSERT_TRUE(SendFramesBorrowing(a, {"header"}, frames, owner).ok());
  auto received = ReceivedFrames::Receive(b, /*dont_wait=*/false);
  ASSERT_TRUE(received.ok()) << received.status();
  ASSERT_EQ(received->size(), 4u);
  EXPECT_EQ((*received)[0], "header");
  EXPECT_EQ((*received)[1], *owner);
  EXPECT_EQ((*received)[2], "zzz");
  EXPECT_EQ((*received)[3], "");
  EXPECT_EQ(received->Views(2).size(), 2u);
  *received = ReceivedFrames();  // inproc passes the borrowed frames through: release them here
  EXPECT_EQ(owner.use_count(), 1);
  EXPECT_TRUE(absl::IsUnavailable(ReceivedFrames::Receive(b, /*dont_wait=*/true).status()));
  zmq_close(a);
  zmq_close(b);
  zmq_ctx_term(context);
}

}  // namespace
}  // namespace lockstep::wire
