// The one way a value reaches a remote shell. OpenSSH joins the words of the
// remote command with spaces and hands the line to the login shell, so every
// word request-deploy puts there goes through shell_quote(). Everything else
// (configuration, labels, paths, secrets) travels on the channel's stdin.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

// `value` as one word of a POSIX shell: single-quoted, with each ' written
// as '\''. Nothing inside is expanded: $(...), ;, backquotes, newlines.
std::string shell_quote(std::string_view value);

// The words of `argv`, each quoted, joined with spaces: a command line that
// a POSIX shell splits back into exactly `argv`.
std::string shell_command(const std::vector<std::string>& argv);

}  // namespace switchyard
