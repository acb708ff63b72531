#include "runner/store/location.hpp"

#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

constexpr std::string_view k_s3_scheme = "s3://";
constexpr std::string_view k_file_scheme = "file:";

Result<Location> parse_file_uri(std::string_view uri) {
  constexpr std::string_view k_prefix = "file://";
  if (!uri.starts_with(k_prefix)) {
    return usage_error(std::string(uri) + ": not a file:// URI; write file:///absolute/path");
  }
  std::string_view rest = uri.substr(k_prefix.size());
  if (rest.empty() || rest.front() != '/') {
    return usage_error(std::string(uri) +
                       ": a file:// URI needs an absolute path and no host; write "
                       "file:///absolute/path");
  }
  Location location;
  location.kind = LocationKind::File;
  location.uri = std::string(uri);
  // Percent-escapes are decoded so a path with a space round-trips; a '%'
  // without two hex digits after it stays as it is.
  location.path = std::filesystem::path(percent_decode(rest)).lexically_normal();
  return location;
}

bool is_bucket_name(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string_view strip_slashes(std::string_view text) {
  while (!text.empty() && text.front() == '/')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == '/')
    text.remove_suffix(1);
  return text;
}

Result<Location> parse_s3_uri(std::string_view uri) {
  std::string_view rest = uri.substr(k_s3_scheme.size());
  auto slash = rest.find('/');
  Location location;
  location.kind = LocationKind::S3;
  location.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) location.key = strip_slashes(rest.substr(slash + 1));
  if (!is_bucket_name(location.bucket)) {
    return usage_error(std::string(uri) +
                       ": not a valid bucket name (3 to 63 lower-case letters, digits, '-' and "
                       "'.'); write s3://bucket/prefix");
  }
  location.uri = "s3://" + location.bucket + (location.key.empty() ? "" : "/" + location.key);
  return location;
}

std::string join(std::string_view base, std::string_view relative) {
  if (base.empty()) return std::string(relative);
  std::string out(base);
  if (out.back() != '/') out += '/';
  return out + std::string(relative);
}

}  // namespace

Result<Location> parse_location(std::string_view uri) {
  if (uri.starts_with(k_s3_scheme)) return parse_s3_uri(uri);
  if (uri.starts_with(k_file_scheme)) return parse_file_uri(uri);
  if (uri.starts_with("http://") || uri.starts_with("https://")) {
    Location location;
    location.kind = LocationKind::Http;
    location.uri = std::string(uri);
    return location;
  }
  if (uri.find("://") != std::string_view::npos) {
    return usage_error(std::string(uri) +
                       ": unknown store; use a path, file://, s3:// or http(s)://");
  }
  if (uri.empty()) return usage_error("the artifact URI is empty; give a path or a URI");
  Location location;
  location.kind = LocationKind::Path;
  location.uri = std::string(uri);
  location.path = std::filesystem::path(uri);
  return location;
}

std::string Location::subject() const {
  switch (kind) {
    case LocationKind::Path:
    case LocationKind::File:
      return path.string();
    case LocationKind::S3:
      return uri;
    case LocationKind::Http:
      return uri.substr(0, uri.find('?'));
  }
  return uri;
}

Result<std::string> Location::file_name() const {
  std::string name;
  if (kind == LocationKind::Path || kind == LocationKind::File) {
    name = path.filename().string();
  } else {
    std::string_view text =
        kind == LocationKind::S3 ? std::string_view(key) : std::string_view(uri);
    text = text.substr(0, text.find_first_of("?#"));
    name = percent_decode(text.substr(text.rfind('/') + 1));
  }
  if (name.empty() || name == "." || name == "..") {
    return usage_error(subject() + ": names no file; give the artifact's full URI");
  }
  // A decoded %2F would let the name climb out of the destination directory.
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return usage_error(subject() +
                       ": the file name holds an encoded '/'; give the artifact's plain URI");
  }
  return name;
}

Location Location::below(std::string_view relative) const {
  Location out = *this;
  switch (kind) {
    case LocationKind::Path:
    case LocationKind::File:
      out.path = path / relative;
      out.uri = kind == LocationKind::File ? path_to_file_uri(out.path) : out.path.string();
      break;
    case LocationKind::S3:
      out.key = join(key, relative);
      out.uri = "s3://" + bucket + "/" + out.key;
      break;
    case LocationKind::Http: {
      auto query = uri.find('?');
      out.uri = join(uri.substr(0, query), relative) +
                (query == std::string::npos ? "" : uri.substr(query));
      break;
    }
  }
  return out;
}

Location Location::manifest_beside() const {
  constexpr std::string_view k_suffix = ".manifest.json";
  Location out = *this;
  switch (kind) {
    case LocationKind::Path:
    case LocationKind::File:
      out.path += k_suffix;
      out.uri = kind == LocationKind::File ? path_to_file_uri(out.path) : out.path.string();
      break;
    case LocationKind::S3:
      out.key += k_suffix;
      out.uri += k_suffix;
      break;
    case LocationKind::Http: {
      auto query = uri.find('?');
      out.uri = uri.substr(0, query) + std::string(k_suffix) +
                (query == std::string::npos ? "" : uri.substr(query));
      break;
    }
  }
  return out;
}

std::string path_to_file_uri(const std::filesystem::path& path) {
  return "file://" + percent_encode(path.string(), " ");
}

}  // namespace switchyard
