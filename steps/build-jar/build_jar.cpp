#include "steps/build-jar/build_jar.hpp"

#include <fnmatch.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

#include "runner/core/branch.hpp"
#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/util/environment.hpp"
#include "runner/util/process.hpp"
#include "runner/util/sha256.hpp"
#include "runner/util/strings.hpp"
#include "runner/util/time.hpp"

namespace switchyard::steps::build_jar {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_tail_lines = 30;
constexpr std::uint32_t k_max_manifest_bytes = 1024 * 1024;

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool path_exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string strip_terminal_escapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\x1b') {
      out += text[i];
      continue;
    }
    // ESC [ parameters... final byte (0x40-0x7e); ESC ( X is three bytes; any
    // other ESC X two.
    if (i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e))
        ++i;
    } else if (i + 1 < text.size() && (text[i + 1] == '(' || text[i + 1] == ')')) {
      i += 2;
    } else {
      ++i;
    }
  }
  return out;
}

std::string last_lines(std::string_view raw, std::size_t count) {
  const std::string stripped = strip_terminal_escapes(raw);
  const std::string_view text(stripped);
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  while (!lines.empty() && trim(lines.back()).empty())
    lines.pop_back();
  std::size_t first = lines.size() > count ? lines.size() - count : 0;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) {
    out += "\n  | ";
    out += lines[i];
  }
  return out;
}

namespace {

// The Gradle task Spring Boot users expect: bootJar when the plugin is
// applied (its jar is the runnable one), else assemble (jar, shadowJar...).
std::string gradle_task(const fs::path& project_dir) {
  for (const char* file : {"build.gradle", "build.gradle.kts"}) {
    std::string text = read_text_file(project_dir / file);
    if (text.find("org.springframework.boot") != std::string::npos) return "bootJar";
  }
  return "assemble";
}

bool is_executable(const fs::path& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// A wrapper script checked out without its executable bit still runs under sh.
std::vector<std::string> wrapper_argv(const fs::path& script) {
  if (is_executable(script)) return {script.string()};
  return {"sh", script.string()};
}

BuildPlan gradle_plan(const fs::path& project_dir, std::vector<std::string> argv,
                      std::string reason) {
  BuildPlan plan;
  plan.tool = Tool::Gradle;
  plan.argv = std::move(argv);
  for (const char* arg : {"--no-daemon", "--console=plain"})
    plan.argv.emplace_back(arg);
  plan.argv.push_back(gradle_task(project_dir));
  plan.jar_dirs = {"build/libs"};
  plan.reason = std::move(reason);
  return plan;
}

BuildPlan maven_plan(std::vector<std::string> argv, std::string reason) {
  BuildPlan plan;
  plan.tool = Tool::Maven;
  plan.argv = std::move(argv);
  for (const char* arg : {"-B", "-ntp", "package", "-DskipTests"}) {
    plan.argv.emplace_back(arg);
  }
  plan.jar_dirs = {"target"};
  plan.reason = std::move(reason);
  return plan;
}

bool has_gradle_build(const fs::path& project_dir) {
  for (const char* file :
       {"build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"}) {
    if (path_exists(project_dir / file)) return true;
  }
  return false;
}

// The build a project directory holds, if any. A wrapper script says which
// build the project pins, so both wrappers come before either build file.
std::optional<Tool> detect_tool(const fs::path& dir) {
  if (path_exists(dir / "gradlew")) return Tool::Gradle;
  if (path_exists(dir / "mvnw")) return Tool::Maven;
  if (has_gradle_build(dir)) return Tool::Gradle;
  if (path_exists(dir / "pom.xml")) return Tool::Maven;
  return std::nullopt;
}

Result<BuildPlan> plan_gradle(const PlanInput& input, const fs::path& dir, bool explicit_tool) {
  if (path_exists(dir / "gradlew")) {
    return gradle_plan(dir, wrapper_argv(dir / "gradlew"), "found ./gradlew");
  }
  if (input.on_path("gradle")) {
    return gradle_plan(dir, {"gradle"}, explicit_tool ? "--tool gradle" : "found build.gradle");
  }
  return unavailable(dir.string() +
                     ": a Gradle build, but neither ./gradlew nor gradle on PATH; add the Gradle "
                     "wrapper (gradle wrapper) or install Gradle");
}

Result<BuildPlan> plan_maven(const PlanInput& input, const fs::path& dir, bool explicit_tool) {
  if (path_exists(dir / "mvnw")) return maven_plan(wrapper_argv(dir / "mvnw"), "found ./mvnw");
  if (input.on_path("mvn")) {
    return maven_plan({"mvn"}, explicit_tool ? "--tool maven" : "found pom.xml");
  }
  return unavailable(dir.string() +
                     ": a Maven build, but neither ./mvnw nor mvn on PATH; add the Maven "
                     "wrapper or install maven");
}

// --- zip ---------------------------------------------------------------

std::uint16_t le16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

bool read_at(std::ifstream& in, std::uint64_t offset, unsigned char* buffer, std::size_t size) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(buffer), static_cast<std::streamsize>(size));
  return static_cast<std::size_t>(in.gcount()) == size;
}

Result<std::string> inflate_raw(const std::string& compressed, std::uint32_t size,
                                const std::string& subject) {
  std::string out(size, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    return failure(subject + ": cannot start zlib; reinstall zlib1g");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int status = inflate(&stream, Z_FINISH);
  inflateEnd(&stream);
  if (status != Z_STREAM_END || stream.total_out != size) {
    return failure(subject + ": corrupt deflate data; rebuild the jar");
  }
  return out;
}

// --- pom.xml -----------------------------------------------------------

std::string strip_xml_comments(std::string_view xml) {
  std::string out;
  std::size_t position = 0;
  while (position < xml.size()) {
    std::size_t open = xml.find("<!--", position);
    if (open == std::string_view::npos) {
      out.append(xml.substr(position));
      break;
    }
    out.append(xml.substr(position, open - position));
    std::size_t close = xml.find("-->", open + 4);
    if (close == std::string_view::npos) break;
    position = close + 3;
  }
  return out;
}

// --- git ---------------------------------------------------------------

struct GitOutput {
  bool ok = false;
  std::vector<std::string> lines;
};

GitOutput run_git(const fs::path& project_dir, std::vector<std::string> arguments) {
  GitOutput out;
  ProcessSpec spec;
  spec.argv = {"git", "-C", project_dir.string()};
  spec.argv.insert(spec.argv.end(), arguments.begin(), arguments.end());
  spec.timeout = std::chrono::seconds(30);
  auto outcome = run_process(spec, [&](Stream stream, std::string_view line) {
    if (stream == Stream::Stdout) out.lines.emplace_back(line);
  });
  out.ok = outcome.ok() && outcome->succeeded();
  return out;
}

// --- the step ----------------------------------------------------------

std::string java_version_from_jdk(const std::map<std::string, std::string>& environment) {
  std::string java_home = environment_value(environment, "JAVA_HOME");
  std::string java = "java";
  if (!java_home.empty() && is_executable(fs::path(java_home) / "bin" / "java")) {
    java = (fs::path(java_home) / "bin" / "java").string();
  } else if (find_program("java").empty()) {
    return "";
  }
  ProcessSpec spec;
  spec.argv = {java, "-version"};
  spec.timeout = std::chrono::seconds(30);
  std::string output;
  auto outcome = run_process(spec, [&](Stream, std::string_view line) {
    output += line;
    output += '\n';
  });
  if (!outcome.ok()) return "";
  return parse_java_version_output(output);
}

// Runs the build in a group of its own, its output streamed to the log. The
// output is the build tool's and every dependency's, so the CI must not take
// it as commands; commands resume (and the group closes) before the caller
// reports a failure, also when this throws.
Result<ProcessOutcome> run_build(const std::vector<std::string>& argv, const fs::path& project_dir,
                                 const std::string& command_line) {
  CiGroup group("build: " + command_line);
  CiUntrustedOutput untrusted;
  ProcessSpec spec;
  spec.argv = argv;
  spec.working_directory = project_dir;
  return run_process(
      spec, [](Stream, std::string_view line) { log::info("{}", strip_terminal_escapes(line)); });
}

std::string app_from_project(const ProjectInfo& info, const std::string& jar_name) {
  if (!info.name.empty()) return sanitize_label(info.name);
  return sanitize_label(app_name_from_jar(jar_name));
}

}  // namespace

Result<Tool> parse_tool(std::string_view text, std::string_view origin) {
  if (text == "auto" || text.empty()) return Tool::Auto;
  if (text == "gradle") return Tool::Gradle;
  if (text == "maven") return Tool::Maven;
  if (text == "command") return Tool::Command;
  return usage_error(std::string(origin) + ": unknown build tool \"" + std::string(text) +
                     "\"; use auto, gradle, maven or command");
}

std::string_view tool_name(Tool tool) {
  switch (tool) {
    case Tool::Auto:
      return "auto";
    case Tool::Gradle:
      return "gradle";
    case Tool::Maven:
      return "maven";
    case Tool::Command:
      return "command";
  }
  return "auto";
}

Result<BuildPlan> plan_build(const PlanInput& input) {
  const fs::path& dir = input.project_dir;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return usage_error(dir.string() +
                       ": no such project directory; check --project or build.project_dir");
  }

  if (input.tool == Tool::Command || (input.tool == Tool::Auto && !input.command.empty())) {
    if (input.command.empty()) {
      return usage_error(
          "build.command: not set, but --tool command needs it; set build.command in "
          "switchyard.yml to the build's argument vector, e.g. [make, dist]");
    }
    BuildPlan command;
    command.tool = Tool::Command;
    command.argv = input.command;
    command.jar_dirs = {"target", "build/libs"};
    command.reason = "build.command";
    // build.args belong to a detected build; a configured command is taken as written.
    return command;
  }
  bool explicit_tool = input.tool != Tool::Auto;
  std::optional<Tool> tool = explicit_tool ? input.tool : detect_tool(dir);
  if (!tool) {
    return usage_error(dir.string() +
                       ": no build found (no gradlew, mvnw, build.gradle or pom.xml); set "
                       "build.command in switchyard.yml or pass --project");
  }
  Result<BuildPlan> plan = *tool == Tool::Gradle ? plan_gradle(input, dir, explicit_tool)
                                                 : plan_maven(input, dir, explicit_tool);
  if (!plan.ok()) return plan;
  plan->argv.insert(plan->argv.end(), input.extra_args.begin(), input.extra_args.end());
  return plan;
}

bool is_runnable_jar_name(std::string_view file_name) {
  if (!ends_with(file_name, ".jar")) return false;
  std::string_view stem = file_name.substr(0, file_name.size() - 4);
  if (stem.starts_with("original-")) return false;
  for (std::string_view suffix : {"-plain", "-sources", "-javadoc", "-test", "-tests"}) {
    if (ends_with(stem, suffix)) return false;
  }
  return true;
}

std::map<std::string, fs::file_time_type> jar_times(const fs::path& project_dir,
                                                    const std::vector<std::string>& dirs) {
  std::map<std::string, fs::file_time_type> times;
  for (const auto& jar : list_jars(project_dir, dirs)) {
    std::error_code error;
    times[jar] = fs::last_write_time(project_dir / jar, error);
  }
  return times;
}

std::vector<std::string> unchanged_jars(const std::map<std::string, fs::file_time_type>& before,
                                        const std::map<std::string, fs::file_time_type>& after) {
  std::vector<std::string> unchanged;
  for (const auto& [jar, time] : after) {
    auto it = before.find(jar);
    if (it != before.end() && it->second == time) unchanged.push_back(jar);
  }
  return unchanged;
}

std::vector<std::string> list_jars(const fs::path& project_dir,
                                   const std::vector<std::string>& dirs) {
  std::vector<std::string> jars;
  for (const auto& dir : dirs) {
    std::error_code error;
    for (fs::directory_iterator it(project_dir / dir, error), end; !error && it != end;
         it.increment(error)) {
      std::string name = it->path().filename().string();
      if (!ends_with(name, ".jar") || !it->is_regular_file(error)) continue;
      jars.push_back((fs::path(dir) / name).string());
    }
  }
  std::sort(jars.begin(), jars.end());
  return jars;
}

Result<std::string> select_jar(const std::vector<std::string>& jars,
                               const std::vector<std::string>& dirs, std::string_view glob,
                               const std::vector<std::string>& unchanged) {
  std::string where = join(dirs, " or ");
  std::vector<std::string> names;
  names.reserve(jars.size());
  for (const auto& jar : jars)
    names.push_back(fs::path(jar).filename().string());

  std::vector<std::string> candidates;
  if (!glob.empty()) {
    std::string pattern(glob);
    bool by_path = pattern.find('/') != std::string::npos;
    for (const auto& jar : jars) {
      std::string subject = by_path ? jar : fs::path(jar).filename().string();
      if (::fnmatch(pattern.c_str(), subject.c_str(), by_path ? FNM_PATHNAME : 0) == 0) {
        candidates.push_back(jar);
      }
    }
    if (candidates.empty()) {
      return failure("build-jar: --jar " + pattern + " matches no jar in " + where +
                     " (found: " + (names.empty() ? std::string("none") : join(names, ", ")) +
                     "); fix the pattern or check the build's output");
    }
    // A pattern that also catches -plain or -sources jars still means the runnable one.
    if (candidates.size() > 1) {
      std::vector<std::string> runnable;
      for (const auto& jar : candidates) {
        if (is_runnable_jar_name(fs::path(jar).filename().string())) runnable.push_back(jar);
      }
      if (!runnable.empty()) candidates = runnable;
    }
  } else {
    for (const auto& jar : jars) {
      if (is_runnable_jar_name(fs::path(jar).filename().string())) candidates.push_back(jar);
    }
    if (candidates.empty()) {
      return failure("build-jar: no runnable jar in " + where + " after the build" +
                     (names.empty() ? std::string() : " (skipped: " + join(names, ", ") + ")") +
                     "; check the build's packaging, or pick one with --jar GLOB");
    }
  }
  // Jars a previous build left behind (an older version's) give way to the
  // ones this build wrote; when the build rewrote none (up to date), all count.
  if (candidates.size() > 1 && !unchanged.empty()) {
    std::vector<std::string> fresh;
    for (const auto& jar : candidates) {
      if (std::find(unchanged.begin(), unchanged.end(), jar) == unchanged.end()) {
        fresh.push_back(jar);
      }
    }
    if (!fresh.empty()) candidates = fresh;
  }
  if (candidates.size() > 1) {
    std::vector<std::string> listed;
    std::vector<std::string> in_dirs;
    for (const auto& jar : candidates) {
      std::string parent = fs::path(jar).parent_path().string();
      if (std::find(in_dirs.begin(), in_dirs.end(), parent) == in_dirs.end()) {
        in_dirs.push_back(parent);
      }
    }
    // File names are enough within one directory; across several, the paths.
    listed.reserve(candidates.size());
    for (const auto& jar : candidates) {
      listed.push_back(in_dirs.size() == 1 ? fs::path(jar).filename().string() : jar);
    }
    return usage_error("build-jar: " + std::to_string(candidates.size()) + " runnable jars in " +
                       join(in_dirs, " and ") + " (" + join(listed, ", ") +
                       "); pick one with --jar GLOB");
  }
  return candidates.front();
}

Result<std::string> read_zip_entry(const fs::path& zip, std::string_view name) {
  const std::string subject = zip.string();
  std::ifstream in(zip, std::ios::binary);
  if (!in) return failure(subject + ": cannot open; check that the build wrote it");
  in.seekg(0, std::ios::end);
  const std::uint64_t file_size = static_cast<std::uint64_t>(in.tellg());

  // The end-of-central-directory record sits in the last 22 bytes plus an
  // optional comment of up to 64 KiB.
  const std::uint64_t tail_size = std::min<std::uint64_t>(file_size, 22 + 65535);
  std::string tail(tail_size, '\0');
  if (tail_size < 22 || !read_at(in, file_size - tail_size,
                                 reinterpret_cast<unsigned char*>(tail.data()), tail_size)) {
    return failure(subject + ": not a jar (too short for a zip file); rebuild it");
  }
  std::size_t eocd = std::string::npos;
  for (std::size_t i = tail_size - 22 + 1; i-- > 0;) {
    if (le32(reinterpret_cast<const unsigned char*>(tail.data()) + i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) {
    return failure(subject + ": not a jar (no zip directory found); rebuild it");
  }
  const auto* record = reinterpret_cast<const unsigned char*>(tail.data()) + eocd;
  const std::uint16_t entries = le16(record + 10);
  const std::uint32_t directory_size = le32(record + 12);
  const std::uint32_t directory_offset = le32(record + 16);
  if (directory_offset == 0xffffffffu || entries == 0xffffu) {
    return failure(subject + ": a zip64 jar is not supported for reading " + std::string(name) +
                   "; set build.release_template without {project_version}");
  }
  if (static_cast<std::uint64_t>(directory_offset) + directory_size > file_size) {
    return failure(subject + ": corrupt zip directory; rebuild the jar");
  }
  std::string directory(directory_size, '\0');
  if (!read_at(in, directory_offset, reinterpret_cast<unsigned char*>(directory.data()),
               directory_size)) {
    return failure(subject + ": cannot read the zip directory; rebuild the jar");
  }

  const auto* p = reinterpret_cast<const unsigned char*>(directory.data());
  std::size_t position = 0;
  for (std::uint16_t i = 0; i < entries; ++i) {
    if (position + 46 > directory.size() || le32(p + position) != 0x02014b50) {
      return failure(subject + ": corrupt zip directory; rebuild the jar");
    }
    const unsigned char* header = p + position;
    const std::uint16_t method = le16(header + 10);
    const std::uint32_t compressed_size = le32(header + 20);
    const std::uint32_t size = le32(header + 24);
    const std::uint16_t name_length = le16(header + 28);
    const std::uint16_t extra_length = le16(header + 30);
    const std::uint16_t comment_length = le16(header + 32);
    const std::uint32_t local_offset = le32(header + 42);
    if (position + 46 + name_length > directory.size()) {
      return failure(subject + ": corrupt zip directory; rebuild the jar");
    }
    std::string_view entry_name(directory.data() + position + 46, name_length);
    position += 46u + name_length + extra_length + comment_length;
    if (entry_name != name) continue;

    if (size > k_max_manifest_bytes || compressed_size > k_max_manifest_bytes) {
      return failure(subject + ": " + std::string(name) + " is larger than 1 MiB; rebuild the jar");
    }
    std::array<unsigned char, 30> local{};
    if (!read_at(in, local_offset, local.data(), local.size()) ||
        le32(local.data()) != 0x04034b50) {
      return failure(subject + ": corrupt zip entry " + std::string(name) + "; rebuild the jar");
    }
    const std::uint64_t data_offset =
        std::uint64_t{local_offset} + 30 + le16(local.data() + 26) + le16(local.data() + 28);
    std::string data(compressed_size, '\0');
    if (!read_at(in, data_offset, reinterpret_cast<unsigned char*>(data.data()), compressed_size)) {
      return failure(subject + ": truncated zip entry " + std::string(name) + "; rebuild the jar");
    }
    if (method == 0) return data;
    if (method == 8) return inflate_raw(data, size, subject + ": " + std::string(name));
    return failure(subject + ": " + std::string(name) + " uses zip method " +
                   std::to_string(method) + ", which switchyard cannot read; rebuild the jar");
  }
  return failure(subject + ": no " + std::string(name) + " in the jar");
}

std::map<std::string, std::string> parse_jar_manifest(std::string_view text) {
  std::map<std::string, std::string> attributes;
  std::string last_key;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      // The main section ends at the first blank line; per-entry sections follow.
      if (!attributes.empty()) break;
      if (start > text.size()) break;
      continue;
    }
    if (line.front() == ' ') {
      if (!last_key.empty()) attributes[last_key] += std::string(line.substr(1));
      continue;
    }
    std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    last_key = std::string(line.substr(0, colon));
    attributes[last_key] = std::string(line.substr(colon + 2));
  }
  return attributes;
}

ProjectInfo parse_pom(std::string_view pom_xml) {
  // A small element walk, enough for /project/artifactId, /project/version
  // and /project/parent/version; namespaces and attributes are ignored.
  std::string xml = strip_xml_comments(pom_xml);
  std::vector<std::string> path;
  ProjectInfo info;
  std::string parent_version;
  std::size_t position = 0;
  while ((position = xml.find('<', position)) != std::string::npos) {
    std::size_t close = xml.find('>', position);
    if (close == std::string::npos) break;
    std::string_view tag(xml.data() + position + 1, close - position - 1);
    std::size_t text_start = close + 1;
    position = close + 1;
    if (tag.empty() || tag.front() == '?' || tag.front() == '!') continue;
    if (tag.front() == '/') {
      if (!path.empty()) path.pop_back();
      continue;
    }
    bool self_closing = tag.back() == '/';
    std::string name(tag.substr(0, tag.find_first_of(" \t\r\n/")));
    if (auto colon = name.find(':'); colon != std::string::npos) name = name.substr(colon + 1);
    if (self_closing) continue;
    path.push_back(name);
    std::string text(trim(
        std::string_view(xml).substr(text_start, xml.find('<', text_start) == std::string::npos
                                                     ? 0
                                                     : xml.find('<', text_start) - text_start)));
    if (path.size() == 2 && path[0] == "project") {
      if (name == "artifactId") info.name = text;
      if (name == "version") info.version = text;
    }
    if (path.size() == 3 && path[0] == "project" && path[1] == "parent" && name == "version") {
      parent_version = text;
    }
  }
  if (info.version.empty()) info.version = parent_version;
  // A property reference (${revision}) is not a version we can use.
  if (info.version.find("${") != std::string::npos) info.version.clear();
  return info;
}

ProjectInfo parse_gradle(std::string_view settings_gradle, std::string_view build_gradle,
                         std::string_view gradle_properties) {
  ProjectInfo info;
  std::smatch match;
  std::string settings(settings_gradle);
  static const std::regex name_pattern(R"re(rootProject\.name\s*=\s*["']([^"']+)["'])re");
  if (std::regex_search(settings, match, name_pattern)) info.name = match[1];

  std::string build(build_gradle);
  static const std::regex version_pattern(R"re((?:^|\n)\s*version\s*=\s*["']([^"']+)["'])re");
  if (std::regex_search(build, match, version_pattern)) {
    info.version = match[1];
  } else {
    std::string properties(gradle_properties);
    static const std::regex property_pattern(R"re((?:^|\n)\s*version\s*[=:]\s*([^\s]+))re");
    if (std::regex_search(properties, match, property_pattern)) info.version = match[1];
  }
  return info;
}

ProjectInfo read_project_info(const fs::path& project_dir) {
  if (path_exists(project_dir / "pom.xml"))
    return parse_pom(read_text_file(project_dir / "pom.xml"));
  std::string settings = read_text_file(project_dir / "settings.gradle");
  if (settings.empty()) settings = read_text_file(project_dir / "settings.gradle.kts");
  std::string build = read_text_file(project_dir / "build.gradle");
  if (build.empty()) build = read_text_file(project_dir / "build.gradle.kts");
  return parse_gradle(settings, build, read_text_file(project_dir / "gradle.properties"));
}

std::string app_name_from_jar(std::string_view file_name) {
  std::string stem(file_name);
  if (ends_with(stem, ".jar")) stem.resize(stem.size() - 4);
  // Cut at the first "-<digit>": "hello-service-1.0.0" -> "hello-service".
  for (std::size_t i = 1; i + 1 < stem.size(); ++i) {
    if (stem[i] == '-' && std::isdigit(static_cast<unsigned char>(stem[i + 1]))) {
      return stem.substr(0, i);
    }
  }
  return stem;
}

std::string sanitize_label(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    if (keep) {
      out += c;
    } else if (c == '/' || std::isspace(static_cast<unsigned char>(c))) {
      out += '-';
    }
  }
  // A label is a path component: it may not start with '.' (".", "..", hidden files).
  std::size_t first = out.find_first_not_of(".-");
  return first == std::string::npos ? "" : out.substr(first);
}

Result<std::string> expand_version(std::string_view template_text, const VersionFacts& facts,
                                   std::string_view origin) {
  const std::string time = compact_utc(facts.now);
  const std::string sha = facts.in_git ? facts.sha : time;
  const std::string short_sha = facts.in_git ? facts.sha.substr(0, 7) : time;
  const std::string build = facts.build_number.empty() ? "local" : facts.build_number;

  bool unique = false;
  std::string out;
  std::size_t position = 0;
  while (position < template_text.size()) {
    std::size_t open = template_text.find('{', position);
    if (open == std::string_view::npos) {
      out.append(template_text.substr(position));
      break;
    }
    out.append(template_text.substr(position, open - position));
    std::size_t close = template_text.find('}', open);
    if (close == std::string_view::npos) {
      return usage_error(std::string(origin) + ": unclosed '{' in version template \"" +
                         std::string(template_text) + "\"; write placeholders as {short_sha}");
    }
    std::string_view name = template_text.substr(open + 1, close - open - 1);
    if (name == "project_version") {
      if (facts.project_version.empty()) {
        return usage_error(
            std::string(origin) +
            ": {project_version} is unknown (no Implementation-Version in the jar's manifest "
            "and no version in the build file); set a version in the build, or a template "
            "without {project_version}");
      }
      out += facts.project_version;
    } else if (name == "sha") {
      out += sha;
      unique = true;
    } else if (name == "short_sha") {
      out += short_sha;
      unique = true;
    } else if (name == "branch") {
      out += facts.branch.empty() ? "unknown" : facts.branch;
    } else if (name == "build") {
      out += build;
    } else if (name == "time") {
      out += time;
      unique = true;
    } else {
      return usage_error(std::string(origin) + ": unknown placeholder {" + std::string(name) +
                         "} in version template; use {project_version}, {sha}, {short_sha}, "
                         "{branch}, {build} or {time}");
    }
    position = close + 1;
  }
  if (!unique) {
    return usage_error(std::string(origin) + ": version template \"" + std::string(template_text) +
                       "\" has no {sha}, {short_sha} or {time}, so two builds could share a "
                       "version; add one of them");
  }
  if (facts.in_git && facts.dirty) out += "-dirty";
  std::string label = sanitize_label(out);
  if (label.empty()) {
    return usage_error(std::string(origin) + ": version template \"" + std::string(template_text) +
                       "\" gives an empty version; use letters, digits, '.', '_' or '-'");
  }
  return label;
}

std::string java_version_from_manifest(const std::map<std::string, std::string>& attributes) {
  for (const char* key : {"Build-Jdk", "Build-Jdk-Spec"}) {
    auto it = attributes.find(key);
    if (it != attributes.end() && !trim(it->second).empty()) return std::string(trim(it->second));
  }
  // The JDK's jar tool writes "Created-By: 17.0.9 (Debian)".
  auto created = attributes.find("Created-By");
  if (created != attributes.end() && !created->second.empty() &&
      std::isdigit(static_cast<unsigned char>(created->second.front()))) {
    return created->second.substr(0, created->second.find(' '));
  }
  return "";
}

std::string parse_java_version_output(std::string_view output) {
  static const std::regex pattern(R"re(version "([^"]+)")re");
  std::string text(output);
  std::smatch match;
  if (std::regex_search(text, match, pattern)) return match[1];
  return "";
}

GitState read_git_state(const fs::path& project_dir,
                        const std::map<std::string, std::string>& environment) {
  GitState state;
  if (find_program("git").empty()) return state;
  GitOutput head = run_git(project_dir, {"rev-parse", "HEAD"});
  if (!head.ok || head.lines.empty()) return state;
  state.in_git = true;
  state.sha = trim(head.lines.front());

  state.branch = current_branch(environment, project_dir);

  // The build's own outputs are not changes to the source, whether or not
  // the project ignores them; the pathspecs are relative to the project.
  GitOutput status =
      run_git(project_dir, {"status", "--porcelain", "--", ":(top)", ":(exclude)target",
                            ":(exclude)build", ":(exclude).gradle"});
  state.dirty = !status.ok || !status.lines.empty();
  return state;
}

Result<void> build(const Options& options, boost::json::object& result) {
  fs::path project_dir =
      fs::absolute(options.project_dir.empty() ? "." : options.project_dir).lexically_normal();
  if (project_dir.filename().empty()) project_dir = project_dir.parent_path();
  const auto environment = current_environment();

  // Check the version template before spending a build on it
  VersionFacts probe;
  probe.project_version = "0";
  probe.in_git = true;
  probe.sha = std::string(40, '0');
  if (auto checked =
          expand_version(options.release_template, probe, options.release_template_origin);
      !checked) {
    return checked.error();
  }

  // Plan the build
  PlanInput input;
  input.project_dir = project_dir;
  input.tool = options.tool;
  input.command = options.command;
  input.extra_args = options.extra_args;
  input.on_path = [](std::string_view program) { return !find_program(program).empty(); };
  auto plan = plan_build(input);
  if (!plan) return plan.error();
  const std::string command_line = join(plan->argv, " ");
  log::info("build-jar: {} build ({}): {}", tool_name(plan->tool), plan->reason, command_line);
  result["build_tool"] = std::string(tool_name(plan->tool));
  result["command"] = command_line;
  if (options.dry_run) {
    log::info("build-jar: dry run; would run {} in {}, then write the manifest beside the jar",
              command_line, project_dir.string());
    result["dry_run"] = true;
    return {};
  }

  // Note the source state before the build, so its outputs cannot affect it
  GitState git = read_git_state(project_dir, environment);
  if (git.in_git) {
    log::debug("build-jar: {}: commit {} on branch {}{}", project_dir.string(), git.sha,
               git.branch.empty() ? "(unknown)" : git.branch,
               git.dirty ? ", with uncommitted changes" : "");
  } else {
    log::debug("build-jar: {}: not in a git work tree; the build time stands in for the sha",
               project_dir.string());
  }
  const auto started = std::chrono::system_clock::now();

  const auto jars_before = jar_times(project_dir, plan->jar_dirs);

  // Run the build
  auto outcome = run_build(plan->argv, project_dir, command_line);
  if (!outcome) return outcome.error();
  if (!outcome->succeeded()) {
    std::string how = outcome->signal != 0
                          ? "was killed by signal " + std::to_string(outcome->signal)
                          : "exited with status " + std::to_string(outcome->exit_code);
    return failure("build-jar: " + command_line + " " + how + " in " + project_dir.string() +
                   "; fix the build (its last lines follow)" +
                   last_lines(outcome->output_tail, k_tail_lines));
  }

  // Find the runnable jar
  auto jar_relative =
      select_jar(list_jars(project_dir, plan->jar_dirs), plan->jar_dirs, options.jar_glob,
                 unchanged_jars(jars_before, jar_times(project_dir, plan->jar_dirs)));
  if (!jar_relative) return jar_relative.error();
  const fs::path jar = project_dir / *jar_relative;

  // Read what the jar and the build file say about the project
  std::map<std::string, std::string> attributes;
  auto jar_manifest = read_zip_entry(jar, "META-INF/MANIFEST.MF");
  if (jar_manifest) {
    attributes = parse_jar_manifest(*jar_manifest);
  } else {
    log::warn("{}", jar_manifest.error().message);
  }
  const ProjectInfo project = read_project_info(project_dir);
  std::string app_version = attributes.count("Implementation-Version") != 0
                                ? std::string(trim(attributes["Implementation-Version"]))
                                : project.version;

  // Label the build
  VersionFacts facts;
  facts.project_version = app_version;
  facts.in_git = git.in_git;
  facts.sha = git.sha;
  facts.branch = git.branch;
  facts.dirty = git.dirty;
  facts.build_number = environment_value(environment, "GITHUB_RUN_NUMBER");
  if (facts.build_number.empty())
    facts.build_number = environment_value(environment, "BUILD_NUMBER");
  facts.now = started;
  auto version = expand_version(options.release_template, facts, options.release_template_origin);
  if (!version) return version.error();

  // Describe the artifact
  auto sha256 = sha256_file(jar);
  if (!sha256) return sha256.error();
  Manifest manifest;
  manifest.app = options.app.empty() ? app_from_project(project, jar.filename().string())
                                     : sanitize_label(options.app);
  manifest.version = *version;
  manifest.app_version = app_version;
  manifest.git_sha = git.sha;
  manifest.branch = git.branch;
  manifest.built_at = rfc3339_utc(started);
  manifest.file = jar.filename().string();
  manifest.size = fs::file_size(jar);
  manifest.sha256 = *sha256;
  manifest.build_tool = std::string(tool_name(plan->tool));
  manifest.java_version = java_version_from_manifest(attributes);
  if (manifest.java_version.empty()) manifest.java_version = java_version_from_jdk(environment);
  if (manifest.app.empty()) {
    return usage_error("build-jar: cannot tell the app's name from " + manifest.file +
                       "; set app in switchyard.yml");
  }

  const fs::path manifest_path = manifest_path_for(jar);
  if (auto written = write_manifest(manifest, manifest_path); !written) return written.error();
  log::info("build-jar: {} {} ({} bytes, sha256 {}) -> {}", manifest.app, manifest.version,
            manifest.size, manifest.sha256, manifest_path.string());

  result["jar"] = jar.string();
  result["manifest"] = manifest_path.string();
  result["version"] = manifest.version;
  result["app_version"] = manifest.app_version;
  result["sha256"] = manifest.sha256;
  result["app"] = manifest.app;
  result["size"] = manifest.size;
  result["git_sha"] = manifest.git_sha;
  return {};
}

}  // namespace switchyard::steps::build_jar
