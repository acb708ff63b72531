// read_chunks (runner/util/file_descriptor.hpp): its reader thread reads
// ahead of the sink, so what the sink sees must still be the file in order,
// and every way out (the end, the sink failing, the sink throwing) must stop
// and join that thread.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "runner/util/file_descriptor.hpp"
#include "tests/support/core_testing.hpp"

namespace switchyard {
namespace {

// A file of `size` bytes whose content tells every position apart.
std::filesystem::path make_file(const core_testing::TempDir& dir, std::size_t size) {
  std::string content(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    content[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  auto path = dir.path() / "data";
  std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(size));
  return path;
}

TEST(ReadChunks, HandsTheSinkTheWholeFileInOrder) {
  core_testing::TempDir dir;
  // More chunks than the reader keeps buffers for, and a partial last one.
  const std::size_t size = (std::size_t{9} << 20) + 12345;
  auto path = make_file(dir, size);
  auto fd = open_for_reading(path);
  ASSERT_TRUE(fd) << fd.error().message;
  std::string seen;
  auto read = read_chunks(*fd, path, [&](std::string_view chunk) -> Result<void> {
    seen.append(chunk);
    return {};
  });
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(seen, core_testing::read_file(path));

  auto empty_path = make_file(dir, 0);
  auto empty = open_for_reading(empty_path);
  ASSERT_TRUE(empty);
  int calls = 0;
  EXPECT_TRUE(read_chunks(*empty, empty_path, [&](std::string_view) -> Result<void> {
    ++calls;
    return {};
  }));
  EXPECT_EQ(calls, 0);
}

TEST(ReadChunks, StopsAtTheSinksErrorAndReturnsIt) {
  core_testing::TempDir dir;
  auto path = make_file(dir, std::size_t{9} << 20);
  auto fd = open_for_reading(path);
  ASSERT_TRUE(fd);
  int calls = 0;
  auto read = read_chunks(*fd, path, [&](std::string_view) -> Result<void> {
    if (++calls == 2) return failure("sink: disk full");
    return {};
  });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message, "sink: disk full");
  EXPECT_EQ(calls, 2);
}

TEST(ReadChunks, PassesTheSinksExceptionOnWithoutEndingTheProcess) {
  core_testing::TempDir dir;
  auto path = make_file(dir, std::size_t{9} << 20);
  auto fd = open_for_reading(path);
  ASSERT_TRUE(fd);
  EXPECT_THROW(
      read_chunks(*fd, path,
                  [](std::string_view) -> Result<void> { throw std::runtime_error("sink threw"); }),
      std::runtime_error);
}

}  // namespace
}  // namespace switchyard
