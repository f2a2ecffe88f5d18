#include "model/safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace lockstep {

// The format stores the header length and every tensor little-endian; we copy
// bytes straight between the file and tensors, which is only right on a
// little-endian host.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

// The reference implementation refuses headers above 100 MB; so do we, so that a
// corrupt length cannot make us allocate gigabytes before failing.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

absl::Status FileError(const std::string& path, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat("safetensors file '", path, "': ", problem));
}

absl::Status TensorError(const std::string& path, const std::string& tensor,
                         const std::string& problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("safetensors file '", path, "', tensor '", tensor, "': ", problem));
}

std::string SafetensorsDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
  }
  return "?";
}

struct Entry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section, [begin, end)
  uint64_t end = 0;
};

// Parses and checks one header entry against the data section size.
absl::StatusOr<Entry> ParseEntry(const std::string& path, const std::string& name,
                                 const nlohmann::json& value, uint64_t data_size) {
  Entry e;
  e.name = name;
  if (!value.is_object()) {
    return TensorError(path, name,
                       absl::StrCat("header entry must be an object, got ", value.dump()));
  }

  auto dt = value.find("dtype");
  if (dt == value.end() || !dt->is_string()) {
    return TensorError(path, name, "header entry has no string 'dtype'");
  }
  const std::string dtype_name = dt->get<std::string>();
  if (dtype_name == "F32") {
    e.dtype = DType::kF32;
  } else if (dtype_name == "F16") {
    e.dtype = DType::kF16;
  } else if (dtype_name == "BF16") {
    e.dtype = DType::kBF16;
  } else {
    return TensorError(path, name,
                       absl::StrCat("unsupported dtype ", dtype_name,
                                    " (lockstep loads only F32, F16 and BF16 tensors)"));
  }

  auto sh = value.find("shape");
  if (sh == value.end() || !sh->is_array()) {
    return TensorError(path, name, "header entry has no array 'shape'");
  }
  uint64_t numel = 1;
  for (const nlohmann::json& d : *sh) {
    if (!d.is_number_unsigned()) {
      return TensorError(path, name,
                         absl::StrCat("shape ", sh->dump(), " must hold non-negative integers"));
    }
    const uint64_t dim = d.get<uint64_t>();
    if (dim > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, dim, &numel)) {
      return TensorError(path, name, absl::StrCat("shape ", sh->dump(), " is too large"));
    }
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(DTypeSize(e.dtype)), &nbytes)) {
    return TensorError(path, name, absl::StrCat("shape ", sh->dump(), " is too large"));
  }

  auto off = value.find("data_offsets");
  if (off == value.end() || !off->is_array() || off->size() != 2 ||
      !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned()) {
    return TensorError(path, name,
                       "header entry needs 'data_offsets' as two non-negative integers");
  }
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  if (e.end < e.begin) {
    return TensorError(path, name,
                       absl::StrCat("data_offsets ", off->dump(), " end before they begin"));
  }
  if (e.end > data_size) {
    return TensorError(
        path, name,
        absl::StrCat("data_offsets ", off->dump(), " run past the end of the data ", "section (",
                     data_size, " bytes): the file is truncated or the offsets are wrong"));
  }
  if (e.end - e.begin != nbytes) {
    return TensorError(
        path, name,
        absl::StrCat("shape ", sh->dump(), " of dtype ", dtype_name, " needs ", nbytes,
                     " bytes but data_offsets ", off->dump(), " span ", e.end - e.begin));
  }
  return e;
}

absl::Status ParseMetadata(const std::string& path, const nlohmann::json& value,
                           std::map<std::string, std::string>& out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_object()) {
    return FileError(path, absl::StrCat("__metadata__ must be an object, got ", value.dump()));
  }
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      return FileError(path, absl::StrCat("__metadata__ value for '", key,
                                          "' must be a string, got ", v.dump()));
    }
    out[key] = v.get<std::string>();
  }
  return absl::OkStatus();
}

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

absl::StatusOr<SafetensorsFile> ReadSafetensors(const std::string& path) {
  std::error_code ec;
  const uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("safetensors file '", path, "': cannot stat: ", ec.message()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("safetensors file '", path, "': cannot open: ", ErrnoText()));
  }
  if (file_size < 8) {
    return FileError(
        path, absl::StrCat("file is ", file_size, " bytes, shorter than the 8-byte header length"));
  }
  unsigned char len_bytes[8];
  if (!in.read(reinterpret_cast<char*>(len_bytes), 8)) {
    return FileError(path, "cannot read the header length");
  }
  uint64_t header_len = 0;
  std::memcpy(&header_len, len_bytes, 8);
  if (header_len > file_size - 8) {
    return FileError(path, absl::StrCat("header length ", header_len, " runs past the end of the ",
                                        file_size, "-byte file (truncated or not safetensors)"));
  }
  if (header_len > kMaxHeaderBytes) {
    return FileError(path, absl::StrCat("header length ", header_len, " exceeds the ",
                                        kMaxHeaderBytes, "-byte limit"));
  }
  std::string header_text(header_len, '\0');
  if (!in.read(header_text.data(), static_cast<std::streamsize>(header_len))) {
    return FileError(path, "cannot read the header");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& e) {
    return FileError(path, absl::StrCat("header is not valid JSON: ", e.what()));
  }
  if (!header.is_object()) {
    return FileError(path, absl::StrCat("header must be a JSON object, got ", header.type_name()));
  }

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;
  SafetensorsFile result;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (absl::Status s = ParseMetadata(path, value, result.metadata); !s.ok()) return s;
      continue;
    }
    absl::StatusOr<Entry> e = ParseEntry(path, key, value, data_size);
    if (!e.ok()) return e.status();
    entries.push_back(std::move(*e));
  }

  // Tensors must tile the data section exactly, as the reference
  // implementation demands: an overlap would alias two tensors, and a gap or
  // trailing bytes mean the header does not describe the file.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered) {
      return TensorError(
          path, e.name,
          absl::StrCat("data_offsets [", e.begin, ", ", e.end, "] overlap tensor '", previous->name,
                       "' [", previous->begin, ", ", previous->end, "]"));
    }
    if (e.begin > covered) {
      return TensorError(path, e.name,
                         absl::StrCat("data_offsets [", e.begin, ", ", e.end, "] leave bytes [",
                                      covered, ", ", e.begin, ") of the data section unused"));
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size) {
    return FileError(path, absl::StrCat("the data section has ", data_size,
                                        " bytes but the tensors cover only ", covered));
  }

  for (const Entry& e : entries) {
    Tensor t(e.dtype, e.shape);
    in.seekg(static_cast<std::streamoff>(data_start + e.begin));
    if (!in.read(static_cast<char*>(t.data()), static_cast<std::streamsize>(t.nbytes()))) {
      return TensorError(path, e.name,
                         "cannot read the tensor's bytes (file changed or truncated)");
    }
    result.tensors.emplace(e.name, std::move(t));
  }
  return result;
}

absl::Status WriteSafetensors(const std::string& path,
                              const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the header in the caller's tensor order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (tensor == nullptr) return TensorError(path, name, "null tensor pointer");
    if (name.empty() || name == "__metadata__") {
      return TensorError(path, name, "is not a valid tensor name");
    }
    if (!seen.insert(name).second) return TensorError(path, name, "appears twice");
    const uint64_t end = offset + tensor->nbytes();
    header[name] = {{"dtype", SafetensorsDTypeName(tensor->dtype())},
                    {"shape", tensor->shape()},
                    {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string header_text;
  try {
    header_text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    return FileError(path, absl::StrCat("cannot encode the header (tensor or metadata names ",
                                        "must be valid UTF-8): ", e.what()));
  }
  // Pad with spaces (valid JSON whitespace) so the data section starts at an
  // 8-byte aligned offset, which lets readers map tensors in place.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  const uint64_t header_len = header_text.size();

  // Write to a temporary file and rename it over `path`, so a reader never sees
  // a half-written file and a crash leaves the old file intact.
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("safetensors file '", path, "': cannot create '", tmp, "': ", ErrnoText()));
  }
  bool ok = std::fwrite(&header_len, 8, 1, f) == 1 &&
            std::fwrite(header_text.data(), 1, header_text.size(), f) == header_text.size();
  for (const auto& [name, tensor] : tensors) {
    if (!ok) break;
    ok = std::fwrite(tensor->data(), 1, tensor->nbytes(), f) == tensor->nbytes();
  }
  const std::string write_error = ok ? "" : ErrnoText();
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    const std::string why = write_error.empty() ? ErrnoText() : write_error;
    std::remove(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("safetensors file '", path, "': writing '", tmp, "' failed: ", why));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = ErrnoText();
    std::remove(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("safetensors file '", path, "': cannot rename '", tmp, "' over it: ", why));
  }
  return absl::OkStatus();
}

}  // namespace lockstep
