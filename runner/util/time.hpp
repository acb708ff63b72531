// Wall-clock times written in UTC, the two ways switchyard writes them.
#pragma once

#include <chrono>
#include <string>

namespace switchyard {

using SystemTime = std::chrono::system_clock::time_point;

// "2026-12-07T05:00:00Z" (RFC 3339): manifests, state files, history.
std::string rfc3339_utc(SystemTime time);

// "20261207T050000Z": SigV4's x-amz-date and build-jar's release labels.
std::string compact_utc(SystemTime time);

}  // namespace switchyard
