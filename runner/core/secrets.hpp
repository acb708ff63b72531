// The list of secret values that nothing switchyard prints may contain.
// log.hpp's add_secret() is the way in: it also tells the CI to mask them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

// Adds `secret`, and each line of a multi-line one, to the list; returns the
// values that were not on it yet. Values shorter than 4 characters are not
// added (they would mask everything).
std::vector<std::string> register_secret(std::string_view secret);

// Returns `text` with the user-info of every URL in it ("http://user:pw@host/"
// -> "http://***@host/") and every registered secret replaced by "***".
std::string mask_secrets(std::string_view text);

// Only the URL part of mask_secrets: "https://u:p@h/x" -> "https://***@h/x".
std::string mask_url_userinfo(std::string_view text);

}  // namespace switchyard
