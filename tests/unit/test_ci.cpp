#include "runner/core/ci.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "runner/core/log.hpp"
#include "tests/support/core_testing.hpp"

using namespace switchyard;

namespace ci_test {

using core_testing::read_file;
using core_testing::TempDir;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);)
    lines.push_back(line);
  return lines;
}

// What reaches file descriptor 2 while the object lives: what a CI log shows.
struct StderrCapture : core_testing::FdCapture {
  StderrCapture() : FdCapture(STDERR_FILENO) {}
};

// Puts a plain adapter back after each test, whatever the test installed.
class CiTest : public ::testing::Test {
 protected:
  void TearDown() override { set_ci(make_ci(CiKind::Plain, {})); }
  std::map<std::string, std::string> github_environment() {
    return {{"GITHUB_ACTIONS", "true"},
            {"GITHUB_OUTPUT", (m_directory / "output").string()},
            {"GITHUB_STEP_SUMMARY", (m_directory / "summary.md").string()}};
  }
  TempDir m_temp;
  std::filesystem::path m_directory = m_temp.path();
};

// Reads $GITHUB_OUTPUT the way the runner does: `name=value` lines, or
// `name<<DELIMITER`, the value's lines, then the delimiter alone on a line.
std::map<std::string, std::string> parse_github_outputs(const std::string& text) {
  std::map<std::string, std::string> outputs;
  auto lines = lines_of(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto heredoc = lines[i].find("<<");
    if (heredoc == std::string::npos) {
      auto eq = lines[i].find('=');
      outputs[lines[i].substr(0, eq)] = lines[i].substr(eq + 1);
      continue;
    }
    std::string name = lines[i].substr(0, heredoc);
    std::string delimiter = lines[i].substr(heredoc + 2);
    std::string value;
    bool first = true;
    for (++i; i < lines.size() && lines[i] != delimiter; ++i) {
      value += (first ? "" : "\n") + lines[i];
      first = false;
    }
    EXPECT_LT(i, lines.size()) << "no closing delimiter for " << name;
    outputs[name] = value;
  }
  return outputs;
}

// Does everything a step may print, each time with `secret` inside.
void print_everything(const std::string& secret) {
  log::info("connecting with token {}", secret);
  log::warn("token {} expires soon", secret);
  log::error("rejected {}", secret);
  ci().begin_group("upload " + secret);
  ci().progress("upload " + secret, 50, 100);
  ci().progress("upload " + secret, 100, 100);
  ci().end_group();
  ci().annotate_error("switchyard-push-artifact " + secret, "denied for " + secret);
  ci().set_output("token", "the token is " + secret);
  ci().set_output("multi", "a\n" + secret + "\nb");
  ci().add_summary("| token | " + secret + " |");
}

}  // namespace ci_test

using namespace ci_test;

TEST_F(CiTest, DetectsTheAdapterFromTheEnvironment) {
  EXPECT_EQ(detect_ci({{"GITHUB_ACTIONS", "true"}})->kind(), CiKind::GitHubActions);
  EXPECT_EQ(detect_ci({{"GITHUB_ACTIONS", "true"}, {"JENKINS_URL", "http://ci/"}})->kind(),
            CiKind::GitHubActions);
  EXPECT_EQ(detect_ci({{"JENKINS_URL", "http://jenkins.example/"}})->kind(), CiKind::Jenkins);
  EXPECT_EQ(detect_ci({{"GITHUB_ACTIONS", "false"}, {"NO_COLOR", "1"}})->kind(), CiKind::Plain);
  EXPECT_EQ(detect_ci({{"JENKINS_URL", ""}, {"TERM", "dumb"}})->kind(), CiKind::Plain);
  // Without CI markers it depends on whether stderr is a terminal.
  StderrCapture piped;  // a file, as when piped
  EXPECT_EQ(detect_ci({{"TERM", "xterm"}})->kind(), CiKind::Plain);
}

TEST(GitHubEscaping, EscapesDataAndProperties) {
  EXPECT_EQ(github_escape_data("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b");
  EXPECT_EQ(github_escape_property("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext%3A a%2Cb");
  EXPECT_EQ(github_escape_data("%25"), "%2525");
}

TEST_F(CiTest, GitHubAnnotationsGroupsAndMasksGoToStderrEscaped) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  ci().annotate_error("switchyard-verify-health: http://h:1", "line one\nline two: 100%");
  ci().begin_group("build");
  ci().begin_group("test");  // GitHub cannot nest: closes "build" first
  ci().end_group();
  ci().end_group();  // nothing open: nothing printed
  ci().mask("p%ss\nword");
  EXPECT_EQ(capture.text(),
            "::error title=switchyard-verify-health%3A http%3A//h%3A1::line one%0Aline two: "
            "100%25\n"
            "::group::build\n"
            "::endgroup::\n"
            "::group::test\n"
            "::endgroup::\n"
            "::add-mask::p%25ss%0Aword\n");
}

TEST_F(CiTest, GitHubOutputsRoundTripThroughTheHeredocForm) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  std::string tricky = "line 1\nline 2 with name<<EOF\n\nEOF\n%0A stays literal\n";
  ci().set_output("simple", "value");
  ci().set_output("notes", tricky);
  ci().set_output("empty", "");
  std::string text = read_file(m_directory / "output");
  auto outputs = parse_github_outputs(text);
  EXPECT_EQ(outputs["simple"], "value");
  EXPECT_EQ(outputs["notes"], tricky);
  EXPECT_EQ(outputs["empty"], "");
  EXPECT_EQ(outputs.size(), 3u);
  EXPECT_TRUE(text.starts_with("simple<<ghadelimiter_")) << text;
}

TEST_F(CiTest, GitHubSummaryIsAppended) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  ci().add_summary("| a | b |\n|---|---|");
  ci().add_summary("| 1 | 2 |\n");
  EXPECT_EQ(read_file(m_directory / "summary.md"), "| a | b |\n|---|---|\n| 1 | 2 |\n");
}

TEST_F(CiTest, GitHubWithoutAnOutputFileWarns) {
  set_ci(make_ci(CiKind::GitHubActions, {{"GITHUB_ACTIONS", "true"}}));
  StderrCapture capture;
  ci().set_output("version", "1.0");
  EXPECT_EQ(capture.text(),
            "warning: GITHUB_OUTPUT: not set; output version is not passed on (old runner?)\n");
}

TEST_F(CiTest, JenkinsOutputsAreAJsonObjectRewrittenWhole) {
  auto file = m_directory / "out" / "outputs.json";
  set_ci(make_ci(CiKind::Jenkins,
                 {{"JENKINS_URL", "http://j/"}, {"SWITCHYARD_OUTPUT_FILE", file.string()}}));
  ci().set_output("version", "1.2.3-abc");
  auto first = boost::json::parse(read_file(file));
  EXPECT_EQ(first, (boost::json::object{{"version", "1.2.3-abc"}}));
  ci().set_output("notes", "two\nlines \"quoted\"");
  ci().set_output("version", "1.2.4");
  auto second = boost::json::parse(read_file(file));
  EXPECT_EQ(second,
            (boost::json::object{{"version", "1.2.4"}, {"notes", "two\nlines \"quoted\""}}));
  // Only the file itself: the temporary was renamed over it.
  std::size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(file.parent_path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST_F(CiTest, JenkinsOutputsDefaultToTheWorkingDirectory) {
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(m_directory);
  set_ci(make_ci(CiKind::Jenkins, {{"JENKINS_URL", "http://j/"}}));
  ci().set_output("sha256", "abc");
  std::filesystem::current_path(previous);
  EXPECT_EQ(boost::json::parse(read_file(m_directory / ".switchyard" / "outputs.json")),
            (boost::json::object{{"sha256", "abc"}}));
}

TEST_F(CiTest, JenkinsOutputFileThatCannotBeReplacedWarns) {
  // A directory where the file should be: the temp file cannot be renamed over it.
  auto file = m_directory / "outputs.json";
  std::filesystem::create_directory(file);
  set_ci(make_ci(CiKind::Jenkins,
                 {{"JENKINS_URL", "http://j/"}, {"SWITCHYARD_OUTPUT_FILE", file.string()}}));
  StderrCapture capture;
  ci().set_output("version", "1.0");
  EXPECT_EQ(capture.text(), "warning: " + file.string() +
                                ": cannot rename its temp file over it (Is a directory); check "
                                "that the directory exists and is writable, or set "
                                "SWITCHYARD_OUTPUT_FILE to another path\n");
  // The temp file beside it is gone too.
  std::size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(m_directory)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST_F(CiTest, JenkinsOutputFileUnderARegularFileWarns) {
  std::ofstream(m_directory / "plain") << "not a directory";
  auto file = m_directory / "plain" / "outputs.json";
  set_ci(make_ci(CiKind::Jenkins,
                 {{"JENKINS_URL", "http://j/"}, {"SWITCHYARD_OUTPUT_FILE", file.string()}}));
  StderrCapture capture;
  ci().set_output("version", "1.0");
  EXPECT_EQ(capture.text(),
            "warning: " + file.string() +
                ": cannot write the outputs: Not a directory; check SWITCHYARD_OUTPUT_FILE\n");
}

TEST_F(CiTest, JenkinsAndPlainPrintPlainLines) {
  for (CiKind kind : {CiKind::Jenkins, CiKind::Plain}) {
    set_ci(make_ci(kind, {{"SWITCHYARD_OUTPUT_FILE", (m_directory / "o.json").string()}}));
    StderrCapture capture;
    ci().begin_group("Build");
    log::info("compiling");
    log::warn("slow disk");
    ci().annotate_error("switchyard-build-jar", "mvn: build failed; see the lines above");
    ci().end_group();
    EXPECT_EQ(capture.text(),
              "== Build\n"
              "compiling\n"
              "warning: slow disk\n"
              "error: mvn: build failed; see the lines above\n");
  }
}

TEST_F(CiTest, PlainProgressPrintsAtMostOneLinePerTenPercent) {
  set_ci(make_ci(CiKind::Plain, {}));
  StderrCapture capture;
  const std::uint64_t total = 1000 * 1024 * 1024ull;
  for (std::uint64_t done = 0; done <= total; done += total / 200)
    ci().progress("upload", done, total);
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_EQ(lines.front(), "upload: 0% (0.0 MiB of 1000.0 MiB)");
  EXPECT_EQ(lines[1], "upload: 10% (100.0 MiB of 1000.0 MiB)");
  EXPECT_EQ(lines.back(), "upload: 100% (1000.0 MiB of 1000.0 MiB)");
}

TEST_F(CiTest, TerminalUsesColourAndRedrawsTheBar) {
  set_ci(make_ci(CiKind::Terminal, {}));
  StderrCapture capture;
  ci().begin_group("Upload");
  log::info("plain");
  log::warn("careful");
  log::error("broken");
  ci().progress("jar", 0, 100);
  log::info("a line while the bar shows");
  ci().progress("jar", 100, 100);
  std::string text = capture.text();
  EXPECT_EQ(text,
            "\033[1m== Upload\033[0m\n"
            "plain\n"
            "\033[33mwarning: careful\033[0m\n"
            "\033[31merror: broken\033[0m\n"
            "\r\033[Kjar [                              ] 0% 0.0 MiB of 0.0 MiB"
            "\r\033[K"  // the bar is cleared before a log line
            "a line while the bar shows\n"
            "\r\033[Kjar [##############################] 100% 0.0 MiB of 0.0 MiB\n");
}

TEST_F(CiTest, ASecretNeverAppearsInAnythingAnyAdapterPrints) {
  int round = 0;
  for (CiKind kind : {CiKind::Plain, CiKind::Terminal, CiKind::GitHubActions, CiKind::Jenkins}) {
    std::string secret = "sekrit-" + std::to_string(round++) + "-Zq9x";
    auto environment = github_environment();
    environment["SWITCHYARD_OUTPUT_FILE"] = (m_directory / "jenkins.json").string();
    set_ci(make_ci(kind, environment));
    StderrCapture capture;
    add_secret(secret);
    print_everything(secret);
    std::string printed = capture.text();
    SCOPED_TRACE(printed);

    auto lines = lines_of(printed);
    ASSERT_FALSE(lines.empty());
    if (kind == CiKind::GitHubActions) {
      // The one line allowed to carry it: the mask, before anything else.
      EXPECT_EQ(lines.front(), "::add-mask::" + secret);
      lines.erase(lines.begin());
    }
    for (const auto& line : lines)
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
    EXPECT_NE(printed.find("connecting with token ***"), std::string::npos);
    for (const char* file : {"output", "summary.md", "jenkins.json"}) {
      std::string text = read_file(m_directory / file);
      EXPECT_EQ(text.find(secret), std::string::npos) << file << ": " << text;
    }
  }
  // The GitHub and Jenkins outputs were written, masked.
  EXPECT_EQ(parse_github_outputs(read_file(m_directory / "output"))["token"], "the token is ***");
  EXPECT_EQ(boost::json::parse(read_file(m_directory / "jenkins.json")).at("multi"), "a\n***\nb");
  EXPECT_NE(read_file(m_directory / "summary.md").find("| token | *** |"), std::string::npos);
}

TEST_F(CiTest, EachLineOfAMultiLineSecretIsMasked) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  add_secret("-----BEGIN KEY-----\nMIIBfirstline\nMIIBsecondline\n-----END KEY-----");
  log::info("second line alone: MIIBsecondline");
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0],
            "::add-mask::-----BEGIN KEY-----%0AMIIBfirstline%0AMIIBsecondline%0A-----END KEY-----");
  EXPECT_EQ(lines[1], "::add-mask::-----BEGIN KEY-----");
  EXPECT_EQ(lines[5], "second line alone: ***");
}

TEST_F(CiTest, LinesFromThreadsNeverInterleave) {
  set_ci(make_ci(CiKind::Plain, {}));
  StderrCapture capture;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i)
        log::info("thread {} line {} {}", t, i, std::string(200, 'x'));
    });
  }
  for (auto& thread : threads)
    thread.join();
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 800u);
  for (const auto& line : lines) {
    ASSERT_TRUE(line.starts_with("thread ")) << line;
    ASSERT_TRUE(line.ends_with(std::string(200, 'x'))) << line;
    ASSERT_EQ(line.find("thread", 1), std::string::npos) << line;
  }
}

TEST_F(CiTest, GroupScopeEndsTheGroup) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  {
    CiGroup group("Fetch");
    log::info("inside");
  }
  EXPECT_EQ(capture.text(), "::group::Fetch\ninside\n::endgroup::\n");
}

namespace ci_test {

// The token of a `::stop-commands::TOKEN` line, checked to be 32 hex digits;
// "" when `line` is not one.
std::string stop_token(const std::string& line) {
  const std::string prefix = "::stop-commands::";
  if (!line.starts_with(prefix)) return "";
  std::string token = line.substr(prefix.size());
  EXPECT_EQ(token.size(), 32u) << line;
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << line;
  return token;
}

// What a build prints that GitHub would otherwise act on.
void print_hostile_build_output() {
  log::info("::set-output name=x::y");
  log::info("::add-mask::z");
  log::info("::error::injected");
  log::info("::endgroup::");
}

}  // namespace ci_test

TEST_F(CiTest, GitHubUntrustedOutputIsEnclosedInStopCommandsInsideTheGroup) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  {
    CiGroup group("build: mvn package");
    CiUntrustedOutput untrusted;
    print_hostile_build_output();
  }
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 8u);
  std::string token = stop_token(lines[1]);
  ASSERT_FALSE(token.empty()) << lines[1];
  EXPECT_EQ(lines, (std::vector<std::string>{"::group::build: mvn package",
                                             "::stop-commands::" + token, "::set-output name=x::y",
                                             "::add-mask::z", "::error::injected",
                                             "::endgroup::", "::" + token + "::", "::endgroup::"}));
}

TEST_F(CiTest, GitHubStopCommandsTokenIsFreshEachTime) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  for (int run = 0; run < 2; ++run) {
    CiUntrustedOutput untrusted;
    log::info("output {}", run);
  }
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 6u);
  std::string first = stop_token(lines[0]);
  std::string second = stop_token(lines[3]);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);
  EXPECT_EQ(lines[2], "::" + first + "::");
  EXPECT_EQ(lines[5], "::" + second + "::");
  EXPECT_NE(random_token(), random_token());
}

TEST_F(CiTest, GitHubCommandsResumeWhenTheScopeIsLeftByAnException) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  try {
    CiGroup group("build");
    CiUntrustedOutput untrusted;
    log::info("::set-output name=x::y");
    throw std::runtime_error("the build threw");
  } catch (const std::runtime_error&) {
    ci().annotate_error("switchyard-build-jar", "the build threw");
  }
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 6u);
  std::string token = stop_token(lines[1]);
  ASSERT_FALSE(token.empty()) << lines[1];
  EXPECT_EQ(lines,
            (std::vector<std::string>{"::group::build", "::stop-commands::" + token,
                                      "::set-output name=x::y", "::" + token + "::", "::endgroup::",
                                      "::error title=switchyard-build-jar::the build threw"}));
}

TEST_F(CiTest, GitHubStopCommandsNestsPrintingOnlyTheOutermost) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  {
    CiUntrustedOutput outer;
    {
      CiUntrustedOutput inner;
      log::info("::add-mask::z");
    }
    log::info("::add-mask::w");
  }
  ci().resume_commands();  // unbalanced: nothing to resume, nothing printed
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 4u);
  std::string token = stop_token(lines[0]);
  EXPECT_EQ(lines, (std::vector<std::string>{"::stop-commands::" + token, "::add-mask::z",
                                             "::add-mask::w", "::" + token + "::"}));
}

// A secret read while commands are stopped (by another thread) must still be
// masked, and switchyard's own group and annotation commands must still work.
TEST_F(CiTest, GitHubOwnCommandsWhileStoppedResumeForTheirLine) {
  set_ci(make_ci(CiKind::GitHubActions, github_environment()));
  StderrCapture capture;
  {
    CiUntrustedOutput untrusted;
    log::info("before");
    add_secret("late-secret-Qx7");
    log::info("after late-secret-Qx7");
  }
  auto lines = lines_of(capture.text());
  ASSERT_EQ(lines.size(), 7u);
  std::string first = stop_token(lines[0]);
  std::string second = stop_token(lines[4]);
  ASSERT_FALSE(second.empty()) << lines[4];
  EXPECT_NE(first, second);
  EXPECT_EQ(lines, (std::vector<std::string>{"::stop-commands::" + first, "before",
                                             "::" + first + "::", "::add-mask::late-secret-Qx7",
                                             "::stop-commands::" + second, "after ***",
                                             "::" + second + "::"}));
}

TEST_F(CiTest, OtherAdaptersPrintUntrustedOutputAsItIs) {
  for (CiKind kind : {CiKind::Plain, CiKind::Terminal, CiKind::Jenkins}) {
    set_ci(make_ci(kind, {{"SWITCHYARD_OUTPUT_FILE", (m_directory / "o.json").string()}}));
    StderrCapture capture;
    {
      CiUntrustedOutput untrusted;
      log::info("::set-output name=x::y");
    }
    EXPECT_EQ(capture.text(), "::set-output name=x::y\n");
  }
}
