// The S3 client and the s3:// store against a real s3rver, behind a proxy
// that records every request and injects faults (tests/support/s3_fault_proxy.py).
#include <gtest/gtest.h>

#include <algorithm>

#include "runner/aws/s3_client.hpp"
#include "runner/store/store.hpp"
#include "runner/util/sha256.hpp"
#include "tests/integration/s3_harness.hpp"

namespace switchyard {
namespace {

using stores_test::RecordedRequest;
using stores_test::S3rverWithProxy;
namespace fs = std::filesystem;

class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!S3rverWithProxy::missing_peer().empty()) return;
    s_peer = new S3rverWithProxy();
    if (!s_peer->start()) {
      delete s_peer;
      s_peer = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete s_peer;
    s_peer = nullptr;
  }

  void SetUp() override {
    if (auto missing = S3rverWithProxy::missing_peer(); !missing.empty()) GTEST_SKIP() << missing;
    ASSERT_NE(s_peer, nullptr) << "s3rver or the fault proxy did not start";
    char pattern[] = "/tmp/switchyard-s3-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    m_work = pattern;
    stores_test::use_s3rver_credentials(m_work);
    s_peer->reset_faults();
    s_peer->clear_log();
  }
  void TearDown() override {
    stores_test::forget_s3rver_credentials();
    if (!m_work.empty()) fs::remove_all(m_work);
  }

  S3Settings settings(std::uint64_t part_size = 5 * k_mib) const {
    S3Settings out;
    out.endpoint = s_peer->endpoint();
    out.part_size = part_size;
    // Short backoffs keep the retry tests fast; the attempts stay at 4.
    out.retry.first_backoff = std::chrono::milliseconds(10);
    out.retry.max_backoff = std::chrono::milliseconds(50);
    return out;
  }
  S3Client client(std::uint64_t part_size = 5 * k_mib) const {
    auto connected = S3Client::connect(settings(part_size));
    EXPECT_TRUE(connected.ok()) << connected.error().message;
    return std::move(connected.value());
  }
  std::string download_sha256(S3Client& s3, const std::string& key) {
    Sha256 hash;
    auto got = s3.get_object("artifacts", key, [&](std::string_view chunk) {
      hash.update(chunk);
      return true;
    });
    EXPECT_TRUE(got.ok()) << got.error().message;
    return hash.finish_hex();
  }
  std::vector<RecordedRequest> parts_sent() const {
    std::vector<RecordedRequest> out;
    for (auto& request : s_peer->requests()) {
      if (request.method == "PUT" && request.query.find("partNumber=") != std::string::npos) {
        out.push_back(request);
      }
    }
    return out;
  }
  static long count(const std::vector<RecordedRequest>& requests, const std::string& method,
                    const std::string& query_part) {
    return std::count_if(requests.begin(), requests.end(), [&](const RecordedRequest& r) {
      return r.method == method && r.query.find(query_part) != std::string::npos;
    });
  }

  static inline S3rverWithProxy* s_peer = nullptr;
  fs::path m_work;
};

TEST_F(S3StoreTest, ASmallFileGoesUpInOnePutWithItsChecksum) {
  auto file = m_work / "small.jar";
  stores_test::write_random_file(file, 3 * 1000 * 1000, 1);
  auto s3 = client();
  auto uploaded = s3.upload_file("artifacts", "t/small.jar", file, "");
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  EXPECT_FALSE(uploaded->multipart);
  EXPECT_EQ(uploaded->sha256, *sha256_file(file));

  auto requests = s_peer->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].path, "/artifacts/t/small.jar");
  EXPECT_EQ(requests[0].body_size, 3u * 1000 * 1000);
  EXPECT_EQ(requests[0].checksum_ok, true);
  EXPECT_EQ(requests[0].header("x-amz-content-sha256"), uploaded->sha256);
  EXPECT_EQ(download_sha256(s3, "t/small.jar"), uploaded->sha256);
}

TEST_F(S3StoreTest, ABigFileGoesUpInChecksummedPartsAndDownloadsIntact) {
  auto file = m_work / "big.jar";
  stores_test::write_random_file(file, 20 * k_mib + 12345, 2);
  std::string expected = *sha256_file(file);
  auto s3 = client();
  std::uint64_t last_progress = 0;
  auto uploaded = s3.upload_file("artifacts", "t/big.jar", file, expected,
                                 [&](std::uint64_t done, std::uint64_t) { last_progress = done; });
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  EXPECT_TRUE(uploaded->multipart);
  EXPECT_EQ(uploaded->parts, 5u);
  EXPECT_EQ(uploaded->sha256, expected);
  EXPECT_EQ(last_progress, 20 * k_mib + 12345);

  auto requests = s_peer->requests();
  ASSERT_EQ(count(requests, "POST", "uploads"), 1);
  auto create = std::find_if(requests.begin(), requests.end(), [](const RecordedRequest& r) {
    return r.method == "POST" && r.query.find("uploads") != std::string::npos;
  });
  EXPECT_EQ(create->header("x-amz-checksum-algorithm"), "SHA256");
  auto parts = parts_sent();
  ASSERT_EQ(parts.size(), 5u);
  for (const auto& part : parts) {
    EXPECT_FALSE(part.header("x-amz-checksum-sha256").empty()) << part.query;
    EXPECT_EQ(part.checksum_ok, true) << part.query;
    EXPECT_EQ(part.status, 200);
  }
  EXPECT_EQ(count(requests, "POST", "uploadId="), 1);  // CompleteMultipartUpload
  EXPECT_EQ(count(requests, "DELETE", "uploadId="), 0);

  auto fetched = fetch_artifact("s3://artifacts/t/big.jar", m_work / "fetched", expected,
                                StoreOptions{"", s_peer->endpoint(), "", "", ""});
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_EQ(fetched->sha256, expected);
  EXPECT_EQ(*sha256_file(m_work / "fetched/big.jar"), expected);
}

TEST_F(S3StoreTest, APartFailingOnceIsRetriedAndTheUploadCompletes) {
  auto file = m_work / "big.jar";
  stores_test::write_random_file(file, 12 * k_mib, 3);
  s_peer->inject(R"({"method":"PUT","query_contains":"partNumber=2&","status":500,"times":1})");
  s_peer->inject(R"({"method":"PUT","query_contains":"partNumber=3&","drop":true,"times":1})");
  auto s3 = client(4 * k_mib);
  auto uploaded = s3.upload_file("artifacts", "t/retried.jar", file, "");
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;

  auto requests = s_peer->requests();
  EXPECT_EQ(count(requests, "PUT", "partNumber=2&"), 2) << "one 500, then the retry";
  EXPECT_EQ(count(requests, "PUT", "partNumber=3&"), 2) << "one dropped connection, then the retry";
  EXPECT_EQ(count(requests, "POST", "uploadId="), 1);
  EXPECT_EQ(count(requests, "DELETE", "uploadId="), 0);
  EXPECT_EQ(download_sha256(s3, "t/retried.jar"), *sha256_file(file));
}

TEST_F(S3StoreTest, APartFailingPastTheRetriesAbortsTheUpload) {
  auto file = m_work / "big.jar";
  stores_test::write_random_file(file, 12 * k_mib, 4);
  s_peer->inject(R"({"method":"PUT","query_contains":"partNumber=2&","status":503,
                     "code":"SlowDown","message":"Please reduce your request rate.","times":-1})");
  auto s3 = client(4 * k_mib);
  auto uploaded = s3.upload_file("artifacts", "t/aborted.jar", file, "");
  ASSERT_FALSE(uploaded.ok());
  EXPECT_EQ(uploaded.error().code, ExitCode::Failure);
  EXPECT_EQ(uploaded.error().message,
            "s3://artifacts/t/aborted.jar (part 2): HTTP 503 SlowDown: Please reduce your request "
            "rate.; the store kept failing after retries, try again later (the multipart upload "
            "was aborted)");

  auto requests = s_peer->requests();
  EXPECT_EQ(count(requests, "PUT", "partNumber=2&"), 4) << "4 attempts in all";
  EXPECT_EQ(count(requests, "DELETE", "uploadId="), 1) << "AbortMultipartUpload";
  EXPECT_EQ(count(requests, "POST", "uploadId="), 0) << "never completed";
  auto head = s3.head_object("artifacts", "t/aborted.jar");
  ASSERT_TRUE(head.ok());
  EXPECT_FALSE(head->has_value());
}

TEST_F(S3StoreTest, AFileThatDoesNotMatchItsManifestIsAbortedNotCompleted) {
  auto file = m_work / "big.jar";
  stores_test::write_random_file(file, 9 * k_mib, 5);
  std::string wrong(64, '0');
  auto s3 = client(4 * k_mib);
  auto uploaded = s3.upload_file("artifacts", "t/mismatch.jar", file, wrong);
  ASSERT_FALSE(uploaded.ok());
  EXPECT_EQ(uploaded.error().message,
            file.string() + ": sha256 " + *sha256_file(file) + " does not match the expected " +
                wrong +
                "; the file changed after it was described, rebuild it (the multipart upload was "
                "aborted)");
  EXPECT_EQ(count(s_peer->requests(), "DELETE", "uploadId="), 1);
}

TEST_F(S3StoreTest, FetchRefusesAMismatchAndLeavesNoFile) {
  auto file = m_work / "small.jar";
  stores_test::write_random_file(file, 100 * 1000, 6);
  auto s3 = client();
  ASSERT_TRUE(s3.upload_file("artifacts", "t/fetch.jar", file, "").ok());
  std::string wrong(64, 'f');
  auto fetched = fetch_artifact("s3://artifacts/t/fetch.jar", m_work / "release", wrong,
                                StoreOptions{"", s_peer->endpoint(), "", "", ""});
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, ExitCode::Failure);
  EXPECT_EQ(fetched.error().message,
            "s3://artifacts/t/fetch.jar: sha256 " + *sha256_file(file) +
                " does not match the expected " + wrong +
                "; the artifact changed after it was described, or the expected sha256 is wrong");
  EXPECT_TRUE(fs::is_empty(m_work / "release"));

  auto missing = fetch_artifact("s3://artifacts/t/none.jar", m_work / "release", "",
                                StoreOptions{"", s_peer->endpoint(), "", "", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ExitCode::Unavailable);
  EXPECT_EQ(missing.error().message,
            "s3://artifacts/t/none.jar: no such object; check the URI and that it was pushed");
  EXPECT_TRUE(fs::is_empty(m_work / "release"));
}

TEST_F(S3StoreTest, PushThenFetchThroughAPresignedUrlWithoutCredentials) {
  auto jar = m_work / "hello.jar";
  stores_test::write_random_file(jar, 200 * 1000, 7);
  PushRequest request;
  request.file = jar;
  request.manifest.app = "hello";
  request.manifest.version = "1.0.0-abc";
  request.manifest.file = "hello.jar";
  request.manifest.size = fs::file_size(jar);
  request.manifest.sha256 = *sha256_file(jar);
  request.presign = std::chrono::minutes(10);
  StoreOptions store{"s3://artifacts/releases", s_peer->direct_endpoint(), "", "", ""};
  auto pushed = push_artifact(request, store);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(pushed->artifact_uri, "s3://artifacts/releases/hello/1.0.0-abc/hello.jar");
  EXPECT_EQ(pushed->manifest_uri,
            "s3://artifacts/releases/hello/1.0.0-abc/hello.jar.manifest.json");
  ASSERT_FALSE(pushed->presigned_url.empty());
  EXPECT_NE(pushed->presigned_url.find("X-Amz-Signature="), std::string::npos);

  // The same bytes again: nothing uploaded.
  auto again = push_artifact(request, store);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->already_present);

  // A host without credentials fetches through the URL alone.
  stores_test::forget_s3rver_credentials();
  auto fetched = fetch_artifact(pushed->presigned_url, m_work / "host", request.manifest.sha256);
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_EQ(fetched->path, m_work / "host/hello.jar");
  EXPECT_EQ(*sha256_file(fetched->path), request.manifest.sha256);
}

TEST_F(S3StoreTest, DifferentBytesUnderAStoredVersionAreRefusedUnlessForced) {
  auto jar = m_work / "hello.jar";
  stores_test::write_random_file(jar, 1000, 8);
  PushRequest request;
  request.file = jar;
  request.manifest =
      Manifest{"hello", "2.0.0", "", "", "", "", "hello.jar", 1000, *sha256_file(jar), "", ""};
  StoreOptions store{"s3://artifacts/releases", s_peer->endpoint(), "", "", ""};
  ASSERT_TRUE(push_artifact(request, store).ok());
  stores_test::write_random_file(jar, 1000, 9);
  request.manifest.sha256 = *sha256_file(jar);
  auto refused = push_artifact(request, store);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ExitCode::Usage);
  EXPECT_EQ(refused.error().message,
            "s3://artifacts/releases/hello/2.0.0/hello.jar: a different artifact is already "
            "stored under version 2.0.0; build a new version or pass --force");
  request.force = true;
  auto forced = push_artifact(request, store);
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  auto s3 = client();
  EXPECT_EQ(download_sha256(s3, "releases/hello/2.0.0/hello.jar"), request.manifest.sha256);
}

TEST_F(S3StoreTest, ErrorsSayWhatToDo) {
  auto jar = m_work / "hello.jar";
  stores_test::write_random_file(jar, 1000, 10);
  PushRequest request;
  request.file = jar;
  request.manifest =
      Manifest{"hello", "3.0.0", "", "", "", "", "hello.jar", 1000, *sha256_file(jar), "", ""};

  auto no_bucket =
      push_artifact(request, {"s3://missing-bucket/x", s_peer->endpoint(), "", "", ""});
  ASSERT_FALSE(no_bucket.ok());
  EXPECT_EQ(no_bucket.error().code, ExitCode::Usage);
  EXPECT_EQ(no_bucket.error().message,
            "s3://missing-bucket: no such bucket (HTTP 404 NoSuchBucket); check the bucket in "
            "--store / artifact.store, or create it");

  int closed_port = stores_test::free_port();
  std::string closed = "http://127.0.0.1:" + std::to_string(closed_port);
  auto unreachable = push_artifact(request, {"s3://artifacts/x", closed, "", "", ""});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.error().code, ExitCode::Unavailable);
  EXPECT_EQ(unreachable.error().message.rfind(closed + ": connection refused", 0), 0u)
      << unreachable.error().message;
  EXPECT_NE(unreachable.error().message.find(
                "; check --endpoint / artifact.endpoint and that the store is reachable"),
            std::string::npos);

  s_peer->inject(R"({"method":"PUT","status":403,"code":"AccessDenied","times":1})");
  auto denied = push_artifact(request, {"s3://artifacts/team", s_peer->endpoint(), "", "", ""});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ExitCode::Unavailable);
  EXPECT_EQ(denied.error().message,
            "s3://artifacts/team/hello/3.0.0/hello.jar: access denied (HTTP 403 AccessDenied) for "
            "the credentials from environment; grant s3:PutObject on arn:aws:s3:::artifacts/team/* "
            "to that identity");
  EXPECT_EQ(denied.error().message.find("S3RVER"), std::string::npos) << "no secret";

  s_peer->inject(R"({"status":403,"code":"RequestTimeTooSkewed","times":1})");
  auto skewed = push_artifact(request, {"s3://artifacts/team", s_peer->endpoint(), "", "", ""});
  ASSERT_FALSE(skewed.ok());
  EXPECT_EQ(skewed.error().code, ExitCode::Unavailable);
  EXPECT_EQ(skewed.error().message,
            "s3://artifacts/team/hello/3.0.0/hello.jar.manifest.json: this machine's clock is too "
            "far from the store's (HTTP 403 RequestTimeTooSkewed); fix the clock (timedatectl / "
            "ntp)");
}

}  // namespace
}  // namespace switchyard
