// Where an artifact is, or where a store keeps them: an artifact URI parsed
// once into a typed location, so nothing below has to look at the URI's text
// again.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "runner/util/result.hpp"

namespace switchyard {

enum class LocationKind {
  Path,  // a plain local path: "/srv/build/app.jar", "build/app.jar"
  File,  // "file:///var/lib/switchyard/artifacts/app/1.0/app.jar"
  S3,    // "s3://bucket/key/or/prefix"
  Http,  // "http://host/app.jar", "https://...?X-Amz-Signature=..." (presigned)
};

struct Location {
  LocationKind kind = LocationKind::Path;
  std::string uri;             // as written (for File, percent-escaped)
  std::filesystem::path path;  // Path and File: the local path, decoded
  std::string bucket;          // S3
  std::string key;             // S3: the object key or a store's prefix, no '/' at either end

  // The URI as a message shows it: an http(s) URL without its query, which
  // for a presigned URL holds the signature.
  std::string subject() const;

  // The last segment, percent-decoded for a URI: the name a fetched copy
  // gets. Fails (exit 2) when there is none ("x/", ".", "..") or when it
  // holds a decoded '/' or NUL, which could climb out of the directory a
  // fetch writes to.
  Result<std::string> file_name() const;

  // The location `relative` ("app/1.0.0/app.jar") below this one, a store's
  // root.
  Location below(std::string_view relative) const;

  // The manifest beside the artifact here: "<artifact>.manifest.json".
  Location manifest_beside() const;
};

// Parses `uri`: "s3://bucket[/prefix]", "file:///absolute/path",
// "http(s)://...", or, without a scheme, a local path. Fails (exit 2) naming
// `uri` for an unknown scheme, a file:// URI with a host or a relative path,
// and an invalid bucket name.
Result<Location> parse_location(std::string_view uri);

// "/tmp/a b" -> "file:///tmp/a%20b" (what parse_location reads back).
std::string path_to_file_uri(const std::filesystem::path& path);

}  // namespace switchyard
