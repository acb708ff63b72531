// CI adapters: the same step talks to GitHub Actions, Jenkins or a terminal.
// Each adapter decides how groups, annotations, outputs, summaries, masking
// and progress look where it runs (DESIGN.md, "CI adapters").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "runner/util/environment.hpp"

namespace switchyard {

namespace log {
// How much a line matters; the CI adapter shows each level its own way, and
// log::set_level (log.hpp) chooses the lowest one printed.
enum class Level { Debug, Info, Warn, Error };
}  // namespace log

enum class CiKind { Terminal, Plain, GitHubActions, Jenkins };

class CiAdapter {
 public:
  virtual ~CiAdapter() = default;
  virtual CiKind kind() const = 0;

  // A named phase of the step: `::group::` in GitHub, a header line elsewhere.
  virtual void begin_group(std::string_view name) = 0;
  virtual void end_group() = 0;

  // The failure that ends the step: `::error::` in GitHub, a line elsewhere.
  virtual void annotate_error(std::string_view title, std::string_view message) = 0;

  // A step output: `$GITHUB_OUTPUT` (multi-line safe) in GitHub; in Jenkins a
  // file the Groovy side reads (`$SWITCHYARD_OUTPUT_FILE`); ignored on a terminal.
  virtual void set_output(std::string_view key, std::string_view value) = 0;

  // Markdown for `$GITHUB_STEP_SUMMARY`; ignored where there is none.
  virtual void add_summary(std::string_view markdown) = 0;

  // Called once per secret by add_secret(): GitHub prints `::add-mask::`.
  virtual void mask(std::string_view secret) = 0;

  // Around the output of a child process (a build, a service): GitHub acts on
  // any line that starts with `::`, so a dependency's build script could set
  // outputs, masks or errors. stop_commands() prints `::stop-commands::TOKEN`
  // with a fresh random TOKEN, resume_commands() `::TOKEN::`; calls nest, and
  // the other adapters print nothing. Use CiUntrustedOutput rather than these.
  virtual void stop_commands() {}
  virtual void resume_commands() {}

  // Progress of a long transfer: a bar on a terminal, percentage lines in CI
  // (at most one line per 10%).
  virtual void progress(std::string_view label, std::uint64_t done, std::uint64_t total) = 0;

  // One log line at `level`, already masked (log::write calls this): red
  // errors and yellow warnings on a terminal, plain lines elsewhere. The
  // default writes "warning: ...", "error: ..." lines to stderr.
  virtual void write_line(log::Level level, std::string_view text);
};

// The adapter of `kind`, reading its files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
// SWITCHYARD_OUTPUT_FILE) from `environment`; tests use it to pick one.
std::unique_ptr<CiAdapter> make_ci(CiKind kind,
                                   const std::map<std::string, std::string>& environment);

// A phase of the step for the scope of this object: begin_group() now,
// end_group() when it goes (also on early returns).
class CiGroup {
 public:
  explicit CiGroup(std::string_view name);
  ~CiGroup();
  CiGroup(const CiGroup&) = delete;
  CiGroup& operator=(const CiGroup&) = delete;
};

// Output that the CI must not take as its own commands, for the scope of this
// object: stop_commands() now, resume_commands() when it goes (also when an
// error or an exception leaves the scope). Open a CiGroup before it, so the
// group closes after commands resume: GitHub ignores `::endgroup::` too while
// they are stopped.
class CiUntrustedOutput {
 public:
  CiUntrustedOutput();
  ~CiUntrustedOutput();
  CiUntrustedOutput(const CiUntrustedOutput&) = delete;
  CiUntrustedOutput& operator=(const CiUntrustedOutput&) = delete;
};

// 32 hex digits from OpenSSL's CSPRNG: a token a child process cannot guess.
// Throws std::runtime_error if OpenSSL has no randomness to give.
std::string random_token();

// GitHub's escaping of workflow command data (% \r \n) and, for properties
// such as `title=`, also `:` and `,`.
std::string github_escape_data(std::string_view text);
std::string github_escape_property(std::string_view text);

// Picks the adapter from the environment: GITHUB_ACTIONS=true, JENKINS_URL,
// a terminal on stderr, or plain lines when piped.
std::unique_ptr<CiAdapter> detect_ci(const std::map<std::string, std::string>& environment);

// The process-wide adapter (detected from the real environment on first use).
CiAdapter& ci();

// Replaces the process-wide adapter (tests, and run_step after parsing).
void set_ci(std::unique_ptr<CiAdapter> adapter);

}  // namespace switchyard
