#include "runner/core/ci.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "runner/core/secrets.hpp"
#include "runner/util/atomic_file.hpp"
#include "runner/util/sha256.hpp"
#include "runner/util/strings.hpp"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;

// Every line switchyard writes to stderr goes through here, so lines from
// threads (health probes, upload workers) never interleave mid-line.
std::mutex& output_mutex() {
  static std::mutex mutex;
  return mutex;
}

void write_stderr_locked(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void write_stderr_line(std::string_view text) {
  std::string line(text);
  line.push_back('\n');
  std::lock_guard lock(output_mutex());
  write_stderr_locked(line);
}

std::string_view level_prefix(log::Level level) {
  switch (level) {
    case log::Level::Debug:
      return "debug: ";
    case log::Level::Warn:
      return "warning: ";
    case log::Level::Error:
      return "error: ";
    default:
      return "";
  }
}

std::string format_mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// Plain lines on stderr: what a pipe, a log file, or Jenkins' console gets.
// The other adapters build on it.
class PlainAdapter : public CiAdapter {
 public:
  CiKind kind() const override { return CiKind::Plain; }

  void begin_group(std::string_view name) override {
    write_stderr_line("== " + mask_secrets(name));
  }
  void end_group() override {}

  void annotate_error(std::string_view /*title*/, std::string_view message) override {
    write_line(log::Level::Error, mask_secrets(message));
  }

  void set_output(std::string_view /*key*/, std::string_view /*value*/) override {}
  void add_summary(std::string_view /*markdown*/) override {}
  void mask(std::string_view /*secret*/) override {}

  // One line per 10% reached, so a CI log gets at most eleven per transfer.
  void progress(std::string_view label, std::uint64_t done, std::uint64_t total) override {
    if (total == 0) return;
    int decile = static_cast<int>(std::min(done, total) * 10 / total);
    {
      std::lock_guard lock(m_progress_mutex);
      auto [it, inserted] = m_deciles.try_emplace(std::string(label), -1);
      // A transfer that starts again (a retry) reports from the start again.
      if (decile < it->second) it->second = -1;
      if (decile <= it->second) return;
      it->second = decile;
    }
    write_stderr_line(mask_secrets(label) + ": " + std::to_string(decile * 10) + "% (" +
                      format_mib(std::min(done, total)) + " of " + format_mib(total) + ")");
  }

 private:
  std::mutex m_progress_mutex;
  std::map<std::string, int> m_deciles;
};

// A terminal: colour, bold group headers, and a progress bar redrawn in place.
class TerminalAdapter : public PlainAdapter {
 public:
  CiKind kind() const override { return CiKind::Terminal; }

  void begin_group(std::string_view name) override {
    std::lock_guard lock(output_mutex());
    clear_bar_locked();
    write_stderr_locked("\033[1m== " + mask_secrets(name) + "\033[0m\n");
  }

  void write_line(log::Level level, std::string_view text) override {
    std::string line;
    if (level == log::Level::Error) line = "\033[31m";
    if (level == log::Level::Warn) line = "\033[33m";
    if (level == log::Level::Debug) line = "\033[2m";
    line += level_prefix(level);
    line += text;
    if (level != log::Level::Info) line += "\033[0m";
    line.push_back('\n');
    std::lock_guard lock(output_mutex());
    clear_bar_locked();
    write_stderr_locked(line);
  }

  void progress(std::string_view label, std::uint64_t done, std::uint64_t total) override {
    if (total == 0) return;
    done = std::min(done, total);
    const bool finished = done == total;
    auto now = Clock::now();
    std::lock_guard lock(output_mutex());
    // Redraw at most every 100 ms; the final state is always drawn.
    if (!finished && m_bar_visible && now - m_last_draw < std::chrono::milliseconds(100)) return;
    m_last_draw = now;
    constexpr int k_width = 30;
    int filled = static_cast<int>(done * k_width / total);
    std::string bar = "\r\033[K" + mask_secrets(label) + " [";
    bar.append(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(k_width - filled), ' ');
    bar += "] " + std::to_string(done * 100 / total) + "% " + format_mib(done) + " of " +
           format_mib(total);
    if (finished) bar += "\n";
    write_stderr_locked(bar);
    m_bar_visible = !finished;
  }

 private:
  void clear_bar_locked() {
    if (!m_bar_visible) return;
    write_stderr_locked("\r\033[K");
    m_bar_visible = false;
  }

  bool m_bar_visible = false;
  Clock::time_point m_last_draw{};
};

// A random delimiter for a multi-line output, as GitHub's own toolkit makes:
// the same 32 hex digits from OpenSSL as the stop-commands token.
std::string random_delimiter() {
  return "ghadelimiter_" + random_token();
}

// Appends `text` to `path` in one write (the runner reads the file after the
// step; O_APPEND keeps concurrent writers from overwriting each other).
bool append_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// GitHub Actions: workflow commands on stderr (stdout stays the --json
// result), outputs and the summary in the files the runner names.
class GitHubAdapter : public PlainAdapter {
 public:
  explicit GitHubAdapter(const std::map<std::string, std::string>& environment)
      : m_output_file(environment_value(environment, "GITHUB_OUTPUT")),
        m_summary_file(environment_value(environment, "GITHUB_STEP_SUMMARY")) {}

  CiKind kind() const override { return CiKind::GitHubActions; }

  // GitHub does not nest groups: a new one closes the open one.
  void begin_group(std::string_view name) override {
    std::lock_guard lock(output_mutex());
    if (m_group_open) write_command_locked("::endgroup::");
    write_command_locked("::group::" + github_escape_data(mask_secrets(name)));
    m_group_open = true;
  }

  void end_group() override {
    std::lock_guard lock(output_mutex());
    if (!m_group_open) return;
    write_command_locked("::endgroup::");
    m_group_open = false;
  }

  void annotate_error(std::string_view title, std::string_view message) override {
    std::string line = "::error title=" + github_escape_property(mask_secrets(title)) +
                       "::" + github_escape_data(mask_secrets(message));
    std::lock_guard lock(output_mutex());
    write_command_locked(line);
  }

  void set_output(std::string_view key, std::string_view value) override {
    std::string name = mask_secrets(key);
    std::string text = mask_secrets(value);
    if (m_output_file.empty()) {
      write_line(log::Level::Warn,
                 "GITHUB_OUTPUT: not set; output " + name + " is not passed on (old runner?)");
      return;
    }
    std::string delimiter = random_delimiter();
    while (text.find(delimiter) != std::string::npos)
      delimiter = random_delimiter();
    std::string record = name + "<<" + delimiter + "\n" + text + "\n" + delimiter + "\n";
    if (!append_file(m_output_file, record)) {
      write_line(log::Level::Warn, m_output_file + ": cannot append output " + name +
                                       "; check the runner's GITHUB_OUTPUT file");
    }
  }

  void add_summary(std::string_view markdown) override {
    if (m_summary_file.empty()) return;
    std::string text = mask_secrets(markdown);
    if (!text.ends_with('\n')) text.push_back('\n');
    if (!append_file(m_summary_file, text)) {
      write_line(log::Level::Warn, m_summary_file + ": cannot append the step summary");
    }
  }

  // The one line where a secret is written: the runner consumes it and hides
  // the value from then on. It must not be masked by us.
  void mask(std::string_view secret) override {
    std::string line = "::add-mask::" + github_escape_data(secret);
    std::lock_guard lock(output_mutex());
    write_command_locked(line);
  }

  // The token is made before the lock is taken: if OpenSSL throws, nothing
  // was printed and the depth is unchanged.
  void stop_commands() override {
    std::string token = random_token();
    std::lock_guard lock(output_mutex());
    if (m_stop_depth++ > 0) return;
    m_stop_token = token;
    write_stderr_locked("::stop-commands::" + m_stop_token + "\n");
  }

  void resume_commands() override {
    std::lock_guard lock(output_mutex());
    if (m_stop_depth == 0 || --m_stop_depth > 0) return;
    write_stderr_locked("::" + m_stop_token + "::\n");
    m_stop_token.clear();
  }

 private:
  // Writes the workflow command `line`. While commands are stopped, it
  // resumes them for this one line and stops them again with a fresh token,
  // so a mask or an annotation printed meanwhile (a secret read by another
  // thread) still takes effect. The caller holds output_mutex().
  void write_command_locked(std::string_view line) {
    if (m_stop_token.empty()) {
      write_stderr_locked(std::string(line) + "\n");
      return;
    }
    std::string token = random_token();
    write_stderr_locked("::" + m_stop_token + "::\n" + std::string(line) +
                        "\n::stop-commands::" + token + "\n");
    m_stop_token = token;
  }

  std::string m_output_file;
  std::string m_summary_file;
  bool m_group_open = false;
  int m_stop_depth = 0;
  std::string m_stop_token;  // empty while commands are processed
};

// Jenkins: plain lines; outputs in a JSON object file that the Groovy side
// reads with readJSON, rewritten whole (temp file and rename) on every output.
class JenkinsAdapter : public PlainAdapter {
 public:
  explicit JenkinsAdapter(const std::map<std::string, std::string>& environment)
      : m_output_file(environment_value(environment, "SWITCHYARD_OUTPUT_FILE")) {
    if (m_output_file.empty()) m_output_file = ".switchyard/outputs.json";
    // Fixed now, so a later change of directory does not move the file.
    std::error_code error;
    auto absolute = std::filesystem::absolute(m_output_file, error);
    if (!error) m_output_file = absolute;
  }

  CiKind kind() const override { return CiKind::Jenkins; }

  void set_output(std::string_view key, std::string_view value) override {
    std::lock_guard lock(m_mutex);
    m_outputs[mask_secrets(key)] = mask_secrets(value);
    boost::json::object object;
    for (const auto& [name, text] : m_outputs)
      object[name] = text;
    std::error_code error;
    if (m_output_file.has_parent_path()) {
      std::filesystem::create_directories(m_output_file.parent_path(), error);
    }
    if (error) {
      write_line(log::Level::Warn, m_output_file.string() + ": cannot write the outputs: " +
                                       error.message() + "; check SWITCHYARD_OUTPUT_FILE");
      return;
    }
    auto written = write_file_atomically(m_output_file, boost::json::serialize(object) + "\n");
    if (!written) {
      write_line(log::Level::Warn,
                 written.error().message + ", or set SWITCHYARD_OUTPUT_FILE to another path");
    }
  }

 private:
  std::mutex m_mutex;
  std::filesystem::path m_output_file;
  std::map<std::string, std::string> m_outputs;
};

std::mutex& adapter_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::unique_ptr<CiAdapter>& current() {
  static std::unique_ptr<CiAdapter> adapter;
  return adapter;
}

}  // namespace

void CiAdapter::write_line(log::Level level, std::string_view text) {
  std::string line(level_prefix(level));
  line += text;
  write_stderr_line(line);
}

std::string github_escape_data(std::string_view text) {
  return percent_encode(text, "\r\n");
}

std::string github_escape_property(std::string_view text) {
  return percent_encode(text, "\r\n:,");
}

std::unique_ptr<CiAdapter> make_ci(CiKind kind,
                                   const std::map<std::string, std::string>& environment) {
  switch (kind) {
    case CiKind::GitHubActions:
      return std::make_unique<GitHubAdapter>(environment);
    case CiKind::Jenkins:
      return std::make_unique<JenkinsAdapter>(environment);
    case CiKind::Terminal:
      return std::make_unique<TerminalAdapter>();
    case CiKind::Plain:
      break;
  }
  return std::make_unique<PlainAdapter>();
}

std::unique_ptr<CiAdapter> detect_ci(const std::map<std::string, std::string>& environment) {
  if (environment_value(environment, "GITHUB_ACTIONS") == "true") {
    return make_ci(CiKind::GitHubActions, environment);
  }
  if (!environment_value(environment, "JENKINS_URL").empty())
    return make_ci(CiKind::Jenkins, environment);
  // Colour only for a person at a terminal that wants it (https://no-color.org).
  bool wants_colour = environment.find("NO_COLOR") == environment.end() &&
                      environment_value(environment, "TERM") != "dumb";
  if (wants_colour && ::isatty(STDERR_FILENO) == 1) return make_ci(CiKind::Terminal, environment);
  return make_ci(CiKind::Plain, environment);
}

CiAdapter& ci() {
  std::lock_guard lock(adapter_mutex());
  auto& adapter = current();
  if (!adapter) adapter = detect_ci(current_environment());
  return *adapter;
}

void set_ci(std::unique_ptr<CiAdapter> adapter) {
  std::lock_guard lock(adapter_mutex());
  current() = std::move(adapter);
}

std::string random_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error(
        "OpenSSL RAND_bytes: no random bytes for a workflow command token; check that "
        "/dev/urandom is readable");
  }
  return to_hex(bytes, sizeof bytes);
}

CiUntrustedOutput::CiUntrustedOutput() {
  ci().stop_commands();
}

CiUntrustedOutput::~CiUntrustedOutput() {
  ci().resume_commands();
}

CiGroup::CiGroup(std::string_view name) {
  ci().begin_group(name);
}

CiGroup::~CiGroup() {
  ci().end_group();
}

}  // namespace switchyard
