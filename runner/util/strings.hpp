// Small text helpers that every layer needs, kept here so each exists once.
#pragma once

#include <string>
#include <string_view>

namespace switchyard {

// `text` without the spaces, tabs, carriage returns and newlines at either end.
std::string_view trim(std::string_view text);

// `text` with A-Z turned into a-z (ASCII only: keys, schemes, header names, hex).
std::string to_lower(std::string_view text);

// True when `a` and `b` differ at most in ASCII letter case.
bool equals_ignoring_case(std::string_view a, std::string_view b);

// `text` with '%' and every character in `reserved` written as %XX (upper-case
// hex), the rest as it is: file:// URIs and GitHub's workflow commands.
std::string percent_encode(std::string_view text, std::string_view reserved);

// Decodes %XX sequences; a '%' without two hex digits after it is kept as it
// is, and '+' stays '+' (URI paths, not form data).
std::string percent_decode(std::string_view text);

// `text` with every control character written as an escape ("\\n", "\\x1b"),
// for quoting text that came from outside (a service's body, an AWS answer)
// in a message: a line break in it would start a log line of the sender's
// choosing (in GitHub Actions, a workflow command such as ::add-mask::).
std::string one_line(std::string_view text);

}  // namespace switchyard
