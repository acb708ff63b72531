#include "runner/util/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace switchyard {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "switchyard-atomic-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_dir = templ;
  }
  void TearDown() override { fs::remove_all(m_dir); }

  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  static mode_t mode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path m_dir;
};

TEST_F(AtomicFileTest, CreatesANewFileWithDefaultMode) {
  fs::path path = m_dir / "state.json";
  ASSERT_TRUE(write_file_atomically(path, "{\"port\":8081}\n"));
  EXPECT_EQ(read(path), "{\"port\":8081}\n");
  EXPECT_EQ(mode_of(path), 0644u);
}

TEST_F(AtomicFileTest, ReplacesContentAndLeavesNoTempFileBehind) {
  fs::path path = m_dir / "live-port";
  ASSERT_TRUE(write_file_atomically(path, "a much longer first content\n"));
  ASSERT_TRUE(write_file_atomically(path, "8082\n"));
  EXPECT_EQ(read(path), "8082\n");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(m_dir))
    ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(AtomicFileTest, KeepsTheModeOfTheFileItReplacesUnlessToldOtherwise) {
  fs::path path = m_dir / "include.conf";
  ASSERT_TRUE(write_file_atomically(path, "one", 0600));
  EXPECT_EQ(mode_of(path), 0600u);
  ASSERT_TRUE(write_file_atomically(path, "two"));
  EXPECT_EQ(mode_of(path), 0600u);
  ASSERT_TRUE(write_file_atomically(path, "three", 0640));
  EXPECT_EQ(mode_of(path), 0640u);
}

TEST_F(AtomicFileTest, ReplacesAHardLinkedFileWithoutChangingTheOtherName) {
  // A rename replaces the directory entry; the old inode (which a reader may
  // still hold open) keeps the whole old content.
  fs::path path = m_dir / "live-port";
  ASSERT_TRUE(write_file_atomically(path, "8081\n"));
  fs::path reader_view = m_dir / "reader";
  fs::create_hard_link(path, reader_view);
  ASSERT_TRUE(write_file_atomically(path, "8082\n"));
  EXPECT_EQ(read(reader_view), "8081\n");
  EXPECT_EQ(read(path), "8082\n");
}

TEST_F(AtomicFileTest, MissingDirectoryFailsNamingThePath) {
  fs::path path = m_dir / "missing" / "state.json";
  auto result = write_file_atomically(path, "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::Failure);
  EXPECT_EQ(result.error().message,
            path.string() +
                ": cannot create a temp file beside it (No such file or directory); check that "
                "the directory exists and is writable");
}

TEST_F(AtomicFileTest, RenameOverADirectoryFailsAndLeavesNoTempFile) {
  fs::path path = m_dir / "taken";
  fs::create_directory(path);
  fs::create_directory(path / "child");  // a non-empty directory cannot be replaced
  auto result = write_file_atomically(path, "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::Failure);
  EXPECT_NE(result.error().message.find(path.string() + ": cannot rename its temp file over it ("),
            std::string::npos)
      << result.error().message;
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(m_dir))
    ++entries;
  EXPECT_EQ(entries, 1);
}

}  // namespace
}  // namespace switchyard
