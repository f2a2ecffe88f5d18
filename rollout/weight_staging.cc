#include "rollout/weight_staging.h"

#include "absl/strings/str_cat.h"
#include "numerics/status_macros.h"
#include "wire/weight_hash.h"

namespace lockstep::rollout {

absl::Status WeightStaging::Start(const wire::WeightsBucket& bucket) {
  if (staged_ && staged_->version == bucket.weight_version &&
      staged_->num_buckets == bucket.num_buckets && staged_->model_config == bucket.model_config &&
      staged_->dtype == bucket.dtype) {
    return absl::OkStatus();  // bucket 0 sent again: keep what the other buckets staged
  }
  staged_.reset();
  LOCKSTEP_ASSIGN_OR_RETURN(
      ModelConfig config,
      ModelConfig::FromHfJson(bucket.model_config, "rollout.weights_bucket model_config"));
  LOCKSTEP_ASSIGN_OR_RETURN(DType dtype, ParseDType(bucket.dtype));
  Staged s;
  if (spare_ && spare_->dtype == dtype && spare_->config.ToHfJson() == config.ToHfJson()) {
    s.weights = std::move(spare_);  // every tensor is overwritten before a commit can succeed
  } else {
    spare_.reset();
    LOCKSTEP_ASSIGN_OR_RETURN(ModelWeights weights, AllocateWeights(config, dtype));
    s.weights = std::make_unique<ModelWeights>(std::move(weights));
  }
  s.version = bucket.weight_version;
  s.num_buckets = bucket.num_buckets;
  s.model_config = bucket.model_config;
  s.dtype = bucket.dtype;
  s.tensors = s.weights->MutableNamedTensors();
  for (size_t i = 0; i < s.tensors.size(); ++i) s.index[s.tensors[i].first] = i;
  s.hashes.assign(s.tensors.size(), std::nullopt);
  s.bucket_ok.assign(bucket.num_buckets, false);
  staged_ = std::move(s);
  return absl::OkStatus();
}

absl::Status WeightStaging::StageTensor(const wire::TensorEntry& entry, std::string_view bytes) {
  Staged& s = *staged_;
  auto it = s.index.find(entry.name);
  if (it == s.index.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor '", entry.name, "' is not part of the ", ModelFamilyName(s.weights->config.family),
        " model that bucket 0's model_config describes"));
  }
  Tensor& tensor = *s.tensors[it->second].second;
  if (entry.dtype != s.dtype || entry.shape != tensor.shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", entry.name, "' is ", entry.dtype, " ",
                     Tensor(DType::kF32, entry.shape).ShapeString(), ", the model needs ", s.dtype,
                     " ", tensor.ShapeString()));
  }
  s.hashes[it->second].reset();
  if (bytes.size() != tensor.nbytes()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", entry.name, "' has ", bytes.size(),
                                                   " bytes, needs ", tensor.nbytes()));
  }
  const uint64_t hash = wire::CopyAndHash(bytes, tensor.data());
  if (hash != entry.xxh64) {
    return absl::DataLossError(absl::StrCat(
        "tensor '", entry.name, "': xxh64 of the bytes received is ", wire::HashToHex(hash),
        ", the sender's is ", wire::HashToHex(entry.xxh64), " (corrupted in transit)"));
  }
  s.hashes[it->second] = hash;
  return absl::OkStatus();
}

wire::WeightsBucketAck WeightStaging::AddBucket(const wire::WeightsBucket& bucket,
                                                std::span<const std::string_view> frames) {
  wire::WeightsBucketAck ack;
  ack.weight_version = bucket.weight_version;
  ack.bucket_index = bucket.bucket_index;
  auto fail = [&](const absl::Status& status, const std::string& tensor) {
    ack.ok = false;
    ack.error = std::string(status.message());
    ack.tensor = tensor;
    if (staged_ && staged_->version == bucket.weight_version &&
        bucket.bucket_index < staged_->bucket_ok.size()) {
      staged_->bucket_ok[bucket.bucket_index] = false;
    }
    return ack;
  };
  if (frames.size() != bucket.tensors.size()) {
    return fail(
        absl::InvalidArgumentError(absl::StrCat("bucket has ", frames.size(), " frames for ",
                                                bucket.tensors.size(), " tensors")),
        "");
  }
  if (bucket.bucket_index == 0) {
    if (absl::Status s = Start(bucket); !s.ok()) return fail(s, "");
  } else if (!staged_ || staged_->version != bucket.weight_version) {
    return fail(
        absl::FailedPreconditionError(absl::StrCat(
            "bucket ", bucket.bucket_index, " of weight version ", bucket.weight_version,
            " arrived before its bucket 0 (which carries model_config); send bucket 0 first")),
        "");
  } else if (bucket.num_buckets != staged_->num_buckets) {
    return fail(
        absl::InvalidArgumentError(absl::StrCat("bucket says num_buckets = ", bucket.num_buckets,
                                                ", bucket 0 said ", staged_->num_buckets)),
        "");
  }
  for (size_t i = 0; i < bucket.tensors.size(); ++i) {
    if (absl::Status s = StageTensor(bucket.tensors[i], frames[i]); !s.ok()) {
      return fail(s, bucket.tensors[i].name);
    }
  }
  staged_->bucket_ok[bucket.bucket_index] = true;
  ack.ok = true;
  return ack;
}

absl::StatusOr<CommittedWeights> WeightStaging::Commit(const wire::WeightsCommit& commit) {
  if (!staged_ || staged_->version != commit.weight_version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no buckets staged for weight version ", commit.weight_version,
        staged_ ? absl::StrCat(" (version ", staged_->version, " is staged)") : std::string()));
  }
  Staged& s = *staged_;
  for (size_t b = 0; b < s.bucket_ok.size(); ++b) {
    if (!s.bucket_ok[b]) {
      return absl::FailedPreconditionError(absl::StrCat("weight version ", s.version, ": bucket ",
                                                        b, " of ", s.num_buckets,
                                                        " is missing or was rejected"));
    }
  }
  std::vector<std::pair<std::string, uint64_t>> hashes;
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    if (!s.hashes[i]) {
      return absl::FailedPreconditionError(absl::StrCat("weight version ", s.version, ": tensor '",
                                                        s.tensors[i].first,
                                                        "' never arrived intact"));
    }
    hashes.emplace_back(s.tensors[i].first, *s.hashes[i]);
  }
  const uint64_t set_hash = wire::WeightSetHash(hashes);
  if (set_hash != commit.set_hash) {
    return absl::DataLossError(absl::StrCat(
        "weight version ", s.version, ": set hash of the staged tensors is ",
        wire::HashToHex(set_hash), ", the sender's is ", wire::HashToHex(commit.set_hash)));
  }
  CommittedWeights out{.version = s.version, .set_hash = set_hash, .weights = std::move(s.weights)};
  staged_.reset();
  return out;
}

}  // namespace lockstep::rollout
