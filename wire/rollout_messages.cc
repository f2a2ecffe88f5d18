#include "wire/rollout_messages.h"

#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"
#include "wire/weight_hash.h"

namespace lockstep::wire {
namespace {

static_assert(std::endian::native == std::endian::little,
              "rollout frames carry numbers little-endian, as this host stores them");

using nlohmann::json;

absl::Status FieldError(const std::string& where, const char* key, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": field '", key, "' ", problem));
}

// A typed field of a JSON object; the error names the message and the key.
template <typename T>
absl::StatusOr<T> Field(const json& object, const char* key, const std::string& where) {
  if (!object.is_object())
    return absl::InvalidArgumentError(absl::StrCat(where, " is not a JSON object"));
  auto it = object.find(key);
  if (it == object.end()) return FieldError(where, key, "is missing");
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return FieldError(where, key, "must be true or false");
    return it->get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return FieldError(where, key, "must be a string");
    return it->get<std::string>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!it->is_number()) return FieldError(where, key, "must be a number");
    return static_cast<T>(it->get<double>());
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!it->is_number_unsigned()) return FieldError(where, key, "must be a non-negative integer");
    const uint64_t v = it->get<uint64_t>();
    if (v > std::numeric_limits<T>::max())
      return FieldError(where, key, absl::StrCat("= ", v, " is out of range"));
    return static_cast<T>(v);
  } else {
    if (!it->is_number_integer()) return FieldError(where, key, "must be an integer");
    if (it->is_number_unsigned() &&
        it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return FieldError(where, key, "is out of range");
    }
    const int64_t v = it->get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      return FieldError(where, key, absl::StrCat("= ", v, " is out of range"));
    }
    return static_cast<T>(v);
  }
}

absl::StatusOr<const json*> ArrayField(const json& object, const char* key,
                                       const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return FieldError(where, key, "must be an array");
  return &*it;
}

absl::Status ExpectType(const json& header, const char* type) {
  const std::string got = header.is_object() ? header.value("type", "") : "";
  if (got != type) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a ", type, " message, got '", got, "'"));
  }
  return absl::OkStatus();
}

absl::Status ExpectFrames(const char* type, size_t got, size_t want) {
  if (got == want) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(type, " message has ", got, " payload frames, its header implies ", want));
}

template <typename T>
std::string ToFrame(const std::vector<T>& values) {
  std::string frame(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(frame.data(), values.data(), frame.size());
  return frame;
}

template <typename T>
absl::StatusOr<std::vector<T>> FromFrame(std::string_view frame, const std::string& what) {
  if (frame.size() % sizeof(T) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": frame of ", frame.size(),
                                                   " bytes is not a whole number of ", sizeof(T),
                                                   "-byte values"));
  }
  std::vector<T> values(frame.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), frame.data(), frame.size());
  return values;
}

json ErrorJson(const RolloutError& error) {
  return {
      {"code", error.code}, {"message", error.message}, {"weight_version", error.weight_version}};
}

absl::StatusOr<RolloutError> ErrorFromJson(const json& object, const std::string& where) {
  RolloutError error;
  LOCKSTEP_ASSIGN_OR_RETURN(error.code, Field<std::string>(object, "code", where));
  LOCKSTEP_ASSIGN_OR_RETURN(error.message, Field<std::string>(object, "message", where));
  LOCKSTEP_ASSIGN_OR_RETURN(error.weight_version, Field<int64_t>(object, "weight_version", where));
  return error;
}

absl::StatusOr<GenerateItem> GenerateItemFromJson(const json& item, const std::string& where) {
  GenerateItem out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.request_id, Field<uint32_t>(item, "request_id", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.sample_index, Field<uint32_t>(item, "sample_index", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.num_samples, Field<uint32_t>(item, "num_samples", where));
  if (out.num_samples < 1) return FieldError(where, "num_samples", "must be >= 1");
  LOCKSTEP_ASSIGN_OR_RETURN(out.max_new_tokens, Field<int32_t>(item, "max_new_tokens", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.seed, Field<uint64_t>(item, "seed", where));
  auto sampling = item.find("sampling");
  if (sampling == item.end()) return FieldError(where, "sampling", "is missing");
  const std::string sampling_where = absl::StrCat(where, ".sampling");
  LOCKSTEP_ASSIGN_OR_RETURN(out.sampling.temperature,
                            Field<float>(*sampling, "temperature", sampling_where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.sampling.top_k, Field<int>(*sampling, "top_k", sampling_where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.sampling.top_p, Field<float>(*sampling, "top_p", sampling_where));
  LOCKSTEP_ASSIGN_OR_RETURN(const json* stops, ArrayField(item, "stop_tokens", where));
  for (const json& t : *stops) {
    if (!t.is_number_integer()) return FieldError(where, "stop_tokens", "must hold integers");
    out.stop_tokens.push_back(t.get<int32_t>());
  }
  return out;
}

absl::StatusOr<TensorEntry> TensorEntryFromJson(const json& entry, const std::string& where) {
  TensorEntry out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.name, Field<std::string>(entry, "name", where));
  const std::string named = absl::StrCat(where, " '", out.name, "'");
  LOCKSTEP_ASSIGN_OR_RETURN(out.dtype, Field<std::string>(entry, "dtype", named));
  LOCKSTEP_ASSIGN_OR_RETURN(const json* shape, ArrayField(entry, "shape", named));
  for (const json& d : *shape) {
    if (!d.is_number_unsigned())
      return FieldError(named, "shape", "must hold non-negative integers");
    out.shape.push_back(d.get<int64_t>());
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::string hex, Field<std::string>(entry, "xxh64", named));
  absl::StatusOr<uint64_t> hash = HashFromHex(hex);
  if (!hash.ok()) return FieldError(named, "xxh64", std::string(hash.status().message()));
  out.xxh64 = *hash;
  return out;
}

// Bytes the tensor's frame must have; an error for unknown dtypes or overflowing shapes.
absl::StatusOr<size_t> ExpectedBytes(const TensorEntry& tensor) {
  LOCKSTEP_ASSIGN_OR_RETURN(size_t bytes, DTypeBytes(tensor.dtype));
  for (int64_t d : tensor.shape) {
    if (d < 0 || (d > 0 && bytes > (size_t{1} << 48) / static_cast<size_t>(d))) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", tensor.name, "' has an implausible shape"));
    }
    bytes *= static_cast<size_t>(d);
  }
  return bytes;
}

}  // namespace

absl::StatusOr<size_t> DTypeBytes(std::string_view dtype) {
  if (dtype == "fp32") return 4;
  if (dtype == "fp16" || dtype == "bf16") return 2;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype '", std::string(dtype), "' (expected fp32, fp16 or bf16)"));
}

Message Encode(const GenerateMessage& generate) {
  Message message;
  json requests = json::array();
  for (const GenerateItem& item : generate.requests) {
    requests.push_back({{"request_id", item.request_id},
                        {"sample_index", item.sample_index},
                        {"num_samples", item.num_samples},
                        {"max_new_tokens", item.max_new_tokens},
                        {"sampling",
                         {{"temperature", item.sampling.temperature},
                          {"top_k", item.sampling.top_k},
                          {"top_p", item.sampling.top_p}}},
                        {"seed", item.seed},
                        {"stop_tokens", item.stop_tokens}});
    message.frames.push_back(ToFrame(item.prompt));
  }
  message.header = {{"type", kRolloutGenerateType},
                    {"batch_id", generate.batch_id},
                    {"weight_version", generate.weight_version},
                    {"requests", std::move(requests)}};
  return message;
}

absl::StatusOr<GenerateMessage> DecodeGenerate(const Message& message) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(message.header, kRolloutGenerateType));
  const std::string where = kRolloutGenerateType;
  GenerateMessage out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.batch_id, Field<uint64_t>(message.header, "batch_id", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.weight_version,
                            Field<int64_t>(message.header, "weight_version", where));
  LOCKSTEP_ASSIGN_OR_RETURN(const json* requests, ArrayField(message.header, "requests", where));
  LOCKSTEP_RETURN_IF_ERROR(
      ExpectFrames(kRolloutGenerateType, message.frames.size(), requests->size()));
  for (size_t i = 0; i < requests->size(); ++i) {
    const std::string item_where = absl::StrCat(where, " requests[", i, "]");
    LOCKSTEP_ASSIGN_OR_RETURN(GenerateItem item, GenerateItemFromJson((*requests)[i], item_where));
    LOCKSTEP_ASSIGN_OR_RETURN(item.prompt,
                              FromFrame<int32_t>(message.frames[i], item_where + " prompt"));
    out.requests.push_back(std::move(item));
  }
  return out;
}

Message Encode(const ResultMessage& result) {
  Message message;
  message.header = {{"type", kRolloutResultType}, {"batch_id", result.batch_id}};
  if (result.error) {
    message.header["error"] = ErrorJson(*result.error);
    return message;
  }
  json results = json::array();
  for (const SampleResult& r : result.results) {
    results.push_back({{"request_id", r.request_id},
                       {"sample_index", r.sample_index},
                       {"finish_reason", r.finish_reason},
                       {"weight_version", r.weight_version}});
    message.frames.push_back(ToFrame(r.tokens));
    message.frames.push_back(ToFrame(r.logprobs));
  }
  message.header["results"] = std::move(results);
  return message;
}

absl::StatusOr<ResultMessage> DecodeResult(const Message& message) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(message.header, kRolloutResultType));
  const std::string where = kRolloutResultType;
  ResultMessage out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.batch_id, Field<uint64_t>(message.header, "batch_id", where));
  if (message.header.contains("error")) {
    LOCKSTEP_ASSIGN_OR_RETURN(out.error, ErrorFromJson(message.header["error"], where + " error"));
    LOCKSTEP_RETURN_IF_ERROR(ExpectFrames(kRolloutResultType, message.frames.size(), 0));
    return out;
  }
  LOCKSTEP_ASSIGN_OR_RETURN(const json* results, ArrayField(message.header, "results", where));
  LOCKSTEP_RETURN_IF_ERROR(
      ExpectFrames(kRolloutResultType, message.frames.size(), 2 * results->size()));
  for (size_t i = 0; i < results->size(); ++i) {
    const json& r = (*results)[i];
    const std::string item_where = absl::StrCat(where, " results[", i, "]");
    SampleResult sample;
    LOCKSTEP_ASSIGN_OR_RETURN(sample.request_id, Field<uint32_t>(r, "request_id", item_where));
    LOCKSTEP_ASSIGN_OR_RETURN(sample.sample_index, Field<uint32_t>(r, "sample_index", item_where));
    LOCKSTEP_ASSIGN_OR_RETURN(sample.finish_reason,
                              Field<std::string>(r, "finish_reason", item_where));
    LOCKSTEP_ASSIGN_OR_RETURN(sample.weight_version,
                              Field<int64_t>(r, "weight_version", item_where));
    LOCKSTEP_ASSIGN_OR_RETURN(sample.tokens,
                              FromFrame<int32_t>(message.frames[2 * i], item_where + " tokens"));
    LOCKSTEP_ASSIGN_OR_RETURN(
        sample.logprobs, FromFrame<float>(message.frames[2 * i + 1], item_where + " logprobs"));
    if (sample.tokens.size() != sample.logprobs.size()) {
      return absl::InvalidArgumentError(absl::StrCat(item_where, ": ", sample.tokens.size(),
                                                     " tokens but ", sample.logprobs.size(),
                                                     " logprobs"));
    }
    out.results.push_back(std::move(sample));
  }
  return out;
}

json WeightsBucketHeader(const WeightsBucket& bucket) {
  json tensors = json::array();
  for (const TensorEntry& t : bucket.tensors) {
    tensors.push_back(
        {{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"xxh64", HashToHex(t.xxh64)}});
  }
  json header = {{"type", kRolloutWeightsBucketType},   {"weight_version", bucket.weight_version},
                 {"bucket_index", bucket.bucket_index}, {"num_buckets", bucket.num_buckets},
                 {"model_config", bucket.model_config}, {"dtype", bucket.dtype},
                 {"tensors", std::move(tensors)}};
  header["version"] = kWireVersion;
  return header;
}

Message Encode(const WeightsBucket& bucket, std::span<const std::string_view> tensor_bytes) {
  Message message;
  message.header = WeightsBucketHeader(bucket);
  for (std::string_view bytes : tensor_bytes) message.frames.emplace_back(bytes);
  return message;
}

absl::StatusOr<WeightsBucket> DecodeWeightsBucket(const json& header,
                                                  std::span<const std::string_view> frames,
                                                  std::string* bad_tensor) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(header, kRolloutWeightsBucketType));
  const std::string where = kRolloutWeightsBucketType;
  WeightsBucket out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.weight_version, Field<int64_t>(header, "weight_version", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.bucket_index, Field<uint32_t>(header, "bucket_index", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.num_buckets, Field<uint32_t>(header, "num_buckets", where));
  if (out.bucket_index >= out.num_buckets) {
    return FieldError(
        where, "bucket_index",
        absl::StrCat("= ", out.bucket_index, " is not below num_buckets = ", out.num_buckets));
  }
  out.model_config = header.value("model_config", json());
  if (out.bucket_index == 0 && !out.model_config.is_object()) {
    return FieldError(where, "model_config", "must be a config.json object in bucket 0");
  }
  LOCKSTEP_ASSIGN_OR_RETURN(out.dtype, Field<std::string>(header, "dtype", where));
  LOCKSTEP_RETURN_IF_ERROR(DTypeBytes(out.dtype).status());
  LOCKSTEP_ASSIGN_OR_RETURN(const json* tensors, ArrayField(header, "tensors", where));
  LOCKSTEP_RETURN_IF_ERROR(ExpectFrames(kRolloutWeightsBucketType, frames.size(), tensors->size()));
  for (size_t i = 0; i < tensors->size(); ++i) {
    LOCKSTEP_ASSIGN_OR_RETURN(TensorEntry entry,
                              TensorEntryFromJson((*tensors)[i], absl::StrCat(where, " tensor")));
    if (bad_tensor != nullptr) *bad_tensor = entry.name;  // cleared below if all is well
    LOCKSTEP_ASSIGN_OR_RETURN(size_t bytes, ExpectedBytes(entry));
    if (frames[i].size() != bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": tensor '", entry.name, "' has ", frames[i].size(), " bytes, its ",
                       entry.dtype, " shape implies ", bytes, " (truncated or misaligned frame)"));
    }
    out.tensors.push_back(std::move(entry));
  }
  if (bad_tensor != nullptr) bad_tensor->clear();
  return out;
}

absl::Status CheckTensorHashes(const WeightsBucket& bucket,
                               std::span<const std::string_view> frames) {
  LOCKSTEP_RETURN_IF_ERROR(
      ExpectFrames(kRolloutWeightsBucketType, frames.size(), bucket.tensors.size()));
  for (size_t i = 0; i < frames.size(); ++i) {
    const uint64_t got = TensorHash(frames[i]);
    if (got != bucket.tensors[i].xxh64) {
      return absl::DataLossError(
          absl::StrCat("tensor '", bucket.tensors[i].name, "': xxh64 of the bytes is ",
                       HashToHex(got), ", the header says ", HashToHex(bucket.tensors[i].xxh64)));
    }
  }
  return absl::OkStatus();
}

Message Encode(const WeightsBucketAck& ack) {
  Message message;
  message.header = {{"type", kRolloutWeightsBucketAckType},
                    {"weight_version", ack.weight_version},
                    {"bucket_index", ack.bucket_index},
                    {"ok", ack.ok},
                    {"error", ack.error},
                    {"tensor", ack.tensor}};
  return message;
}

absl::StatusOr<WeightsBucketAck> DecodeWeightsBucketAck(const Message& message) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(message.header, kRolloutWeightsBucketAckType));
  const std::string where = kRolloutWeightsBucketAckType;
  WeightsBucketAck out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.weight_version,
                            Field<int64_t>(message.header, "weight_version", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.bucket_index,
                            Field<uint32_t>(message.header, "bucket_index", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.ok, Field<bool>(message.header, "ok", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.error, Field<std::string>(message.header, "error", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.tensor, Field<std::string>(message.header, "tensor", where));
  return out;
}

Message Encode(const WeightsCommit& commit) {
  Message message;
  message.header = {{"type", kRolloutWeightsCommitType},
                    {"weight_version", commit.weight_version},
                    {"set_hash", HashToHex(commit.set_hash)}};
  return message;
}

absl::StatusOr<WeightsCommit> DecodeWeightsCommit(const Message& message) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(message.header, kRolloutWeightsCommitType));
  const std::string where = kRolloutWeightsCommitType;
  WeightsCommit out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.weight_version,
                            Field<int64_t>(message.header, "weight_version", where));
  LOCKSTEP_ASSIGN_OR_RETURN(std::string hex, Field<std::string>(message.header, "set_hash", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.set_hash, HashFromHex(hex));
  return out;
}

Message Encode(const WeightsAck& ack) {
  Message message;
  message.header = {{"type", kRolloutWeightsAckType}, {"weight_version", ack.weight_version}};
  if (ack.error) {
    message.header["error"] = ErrorJson(*ack.error);
  } else {
    message.header["set_hash"] = HashToHex(ack.set_hash);
  }
  return message;
}

absl::StatusOr<WeightsAck> DecodeWeightsAck(const Message& message) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(message.header, kRolloutWeightsAckType));
  const std::string where = kRolloutWeightsAckType;
  WeightsAck out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.weight_version,
                            Field<int64_t>(message.header, "weight_version", where));
  if (message.header.contains("error")) {
    LOCKSTEP_ASSIGN_OR_RETURN(out.error, ErrorFromJson(message.header["error"], where + " error"));
    return out;
  }
  LOCKSTEP_ASSIGN_OR_RETURN(std::string hex, Field<std::string>(message.header, "set_hash", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.set_hash, HashFromHex(hex));
  return out;
}

Message Encode(const StatusRequest& request) {
  Message message;
  message.header = {{"type", kRolloutStatusType}, {"ping_id", request.ping_id}};
  return message;
}

absl::StatusOr<StatusRequest> DecodeStatusRequest(const Message& message) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(message.header, kRolloutStatusType));
  StatusRequest out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.ping_id,
                            Field<uint64_t>(message.header, "ping_id", kRolloutStatusType));
  return out;
}

Message Encode(const StatusReply& reply) {
  Message message;
  message.header = {{"type", kRolloutStatusType},
                    {"ping_id", reply.ping_id},
                    {"instance_id", reply.instance_id},
                    {"pid", reply.pid},
                    {"weight_version", reply.weight_version},
                    {"running", reply.running},
                    {"waiting", reply.waiting},
                    {"steps", reply.steps}};
  return message;
}

absl::StatusOr<StatusReply> DecodeStatusReply(const Message& message) {
  LOCKSTEP_RETURN_IF_ERROR(ExpectType(message.header, kRolloutStatusType));
  const std::string where = "rollout.status reply";
  StatusReply out;
  LOCKSTEP_ASSIGN_OR_RETURN(out.ping_id, Field<uint64_t>(message.header, "ping_id", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.instance_id,
                            Field<std::string>(message.header, "instance_id", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.pid, Field<int64_t>(message.header, "pid", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.weight_version,
                            Field<int64_t>(message.header, "weight_version", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.running, Field<int64_t>(message.header, "running", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.waiting, Field<int64_t>(message.header, "waiting", where));
  LOCKSTEP_ASSIGN_OR_RETURN(out.steps, Field<int64_t>(message.header, "steps", where));
  return out;
}

}  // namespace lockstep::wire
