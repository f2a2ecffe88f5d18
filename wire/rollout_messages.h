// Rollout messages (the trainer's rollout/client.h <-> lockstep-rollout's
// rollout/server.h). Headers are JSON; bulk data travels as raw frames:
//   rollout.generate        {batch_id, weight_version, requests:[{request_id, sample_index,
//                            num_samples, max_new_tokens, sampling{temperature, top_k, top_p},
//                            seed, stop_tokens}]}         frames: one int32 prompt per request
//   rollout.result          {batch_id, results:[{request_id, sample_index, finish_reason,
//                            weight_version}]} or {batch_id, error{code, message,
//                            weight_version}}             frames: int32 tokens, float32 logprobs
//                                                         per result
//   rollout.weights_bucket  {weight_version, bucket_index, num_buckets, model_config (bucket 0),
//                            dtype, tensors:[{name, dtype, shape, xxh64}]}
//                                                         frames: one per tensor, its raw bytes
//   rollout.weights_bucket_ack {weight_version, bucket_index, ok, error, tensor}
//   rollout.weights_commit  {weight_version, set_hash}
//   rollout.weights_ack     {weight_version, set_hash} or {weight_version, error{...}}
//   rollout.status          request {ping_id}; reply {ping_id, instance_id, pid, weight_version,
//                            running, waiting, steps}
// Numbers travel little-endian; float bits are kept exactly. Every decoder
// checks the type, the fields it reads and the frame count and sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "wire/message.h"

namespace lockstep::wire {

inline constexpr char kRolloutGenerateType[] = "rollout.generate";
inline constexpr char kRolloutResultType[] = "rollout.result";
inline constexpr char kRolloutWeightsBucketType[] = "rollout.weights_bucket";
inline constexpr char kRolloutWeightsBucketAckType[] = "rollout.weights_bucket_ack";
inline constexpr char kRolloutWeightsCommitType[] = "rollout.weights_commit";
inline constexpr char kRolloutWeightsAckType[] = "rollout.weights_ack";
inline constexpr char kRolloutStatusType[] = "rollout.status";

// Error codes of rollout.result and rollout.weights_ack.
inline constexpr char kStaleWeightsError[] = "stale_weights";  // wrong weight_version
inline constexpr char kNoWeightsError[] = "no_weights";        // nothing loaded yet
inline constexpr char kBadRequestError[] = "bad_request";
inline constexpr char kBadWeightsError[] = "bad_weights";  // incomplete or mismatched set

// Bytes per element of a dtype named as numerics/dtype.h's DTypeName writes
// it ("fp32", "fp16", "bf16"); InvalidArgument for any other name.
absl::StatusOr<size_t> DTypeBytes(std::string_view dtype);

struct RolloutSampling {
  float temperature = 1.0f;
  int top_k = 0;
  float top_p = 1.0f;
};

struct GenerateItem {
  uint32_t request_id = 0;
  uint32_t sample_index = 0;  // first sample; the item asks for num_samples from here
  uint32_t num_samples = 1;
  int32_t max_new_tokens = 64;
  RolloutSampling sampling;
  uint64_t seed = 0;
  std::vector<int32_t> stop_tokens;
  std::vector<int32_t> prompt;  // travels as a frame
};

struct GenerateMessage {
  uint64_t batch_id = 0;
  int64_t weight_version = 0;
  std::vector<GenerateItem> requests;
};

struct RolloutError {
  std::string code;  // k*Error above
  std::string message;
  int64_t weight_version = -1;  // the engine's current version (-1: none loaded)
};

struct SampleResult {
  uint32_t request_id = 0;
  uint32_t sample_index = 0;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;  // one per token
  std::string finish_reason;    // "stop" or "length"
  int64_t weight_version = 0;   // the weights that produced every token
};

struct ResultMessage {
  uint64_t batch_id = 0;
  std::vector<SampleResult> results;
  std::optional<RolloutError> error;  // then `results` is empty
};

struct TensorEntry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t xxh64 = 0;  // TensorHash of the bytes; hex on the wire
};

// A bucket's header; the tensor bytes are its frames (not held here, so a
// receiver can read them where ZeroMQ put them).
struct WeightsBucket {
  int64_t weight_version = 0;
  uint32_t bucket_index = 0;
  uint32_t num_buckets = 0;
  nlohmann::json model_config;  // HF config.json object in bucket 0, null otherwise
  std::string dtype;
  std::vector<TensorEntry> tensors;
};

struct WeightsBucketAck {
  int64_t weight_version = 0;
  uint32_t bucket_index = 0;
  bool ok = false;
  std::string error;   // why not ok
  std::string tensor;  // the tensor at fault, if one is
};

struct WeightsCommit {
  int64_t weight_version = 0;
  uint64_t set_hash = 0;
};

struct WeightsAck {
  int64_t weight_version = 0;
  uint64_t set_hash = 0;  // computed by the receiver
  std::optional<RolloutError> error;
};

struct StatusRequest {
  uint64_t ping_id = 0;
};

struct StatusReply {
  uint64_t ping_id = 0;
  std::string instance_id;  // random per process start
  int64_t pid = 0;
  int64_t weight_version = -1;  // -1: no weights loaded
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t steps = 0;
};

Message Encode(const GenerateMessage& generate);
absl::StatusOr<GenerateMessage> DecodeGenerate(const Message& message);
Message Encode(const ResultMessage& result);
absl::StatusOr<ResultMessage> DecodeResult(const Message& message);

// The bucket header alone (frames are sent separately, see bulk_frames.h).
nlohmann::json WeightsBucketHeader(const WeightsBucket& bucket);
// The whole bucket with copies of `tensor_bytes` as frames (tests, small sets).
Message Encode(const WeightsBucket& bucket, std::span<const std::string_view> tensor_bytes);
// Checks the header and that there is one frame per tensor of exactly
// numel * dtype bytes. Hashes are NOT checked here: see CheckTensorHashes,
// or copy each frame with CopyAndHash and compare. When one tensor is at
// fault, its name goes to `bad_tensor` (if given).
absl::StatusOr<WeightsBucket> DecodeWeightsBucket(const nlohmann::json& header,
                                                  std::span<const std::string_view> frames,
                                                  std::string* bad_tensor = nullptr);
// Each frame's TensorHash against its entry; the error names the first tensor that differs.
absl::Status CheckTensorHashes(const WeightsBucket& bucket,
                               std::span<const std::string_view> frames);

Message Encode(const WeightsBucketAck& ack);
absl::StatusOr<WeightsBucketAck> DecodeWeightsBucketAck(const Message& message);
Message Encode(const WeightsCommit& commit);
absl::StatusOr<WeightsCommit> DecodeWeightsCommit(const Message& message);
Message Encode(const WeightsAck& ack);
absl::StatusOr<WeightsAck> DecodeWeightsAck(const Message& message);
Message Encode(const StatusRequest& request);
absl::StatusOr<StatusRequest> DecodeStatusRequest(const Message& message);
Message Encode(const StatusReply& reply);
absl::StatusOr<StatusReply> DecodeStatusReply(const Message& message);

}  // namespace lockstep::wire
