// Test support for the runner core's tests (CI adapters, logging, steps,
// processes, HTTP and health): a temporary directory that removes itself,
// reading a file whole, and capturing what reaches stdout or stderr.
//
// Everything lives in `core_testing` so it cannot clash with another area's
// helpers in the same test binary.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace core_testing {

// A fresh directory under the system's temp directory, removed with its
// contents when the object goes (also when an ASSERT ends the test early).
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "switchyard-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// The whole content of `path` ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Sends file descriptor `fd` (STDOUT_FILENO or STDERR_FILENO) to a file until
// text() is called or the object goes, so a test sees exactly what a CI log
// or a pipe would.
class FdCapture {
 public:
  explicit FdCapture(int fd) : m_fd(fd), m_path(m_directory.path() / "captured") {
    flush();
    m_saved = ::dup(m_fd);
    int file = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(file, m_fd);
    ::close(file);
  }
  ~FdCapture() { restore(); }
  FdCapture(const FdCapture&) = delete;
  FdCapture& operator=(const FdCapture&) = delete;

  // Puts the descriptor back and returns what was written to it.
  std::string text() {
    restore();
    return read_file(m_path);
  }

 private:
  static void flush() {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(stdout);
    std::fflush(stderr);
  }
  void restore() {
    if (m_saved < 0) return;
    flush();
    ::dup2(m_saved, m_fd);
    ::close(m_saved);
    m_saved = -1;
  }
  TempDir m_directory;
  int m_fd;
  std::filesystem::path m_path;
  int m_saved = -1;
};

}  // namespace core_testing
