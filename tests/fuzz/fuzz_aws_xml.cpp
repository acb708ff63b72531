// AWS's XML answers: S3 error documents, STS's AssumeRole and
// AssumeRoleWithWebIdentity responses, CreateMultipartUpload's UploadId. The
// reading (xml_text and its entity decoding, the ISO 8601 expiry) never
// crashes, and a value escaped with xml_escape reads back as written.
#include "runner/aws/sigv4.hpp"
#include "runner/util/xml.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string xml(reinterpret_cast<const char*>(data), size);
  for (const char* tag : {"Code", "Message", "RequestId", "AccessKeyId", "SecretAccessKey",
                          "SessionToken", "UploadId", "ETag", "Key", "Region"}) {
    (void)xml_text(xml, tag);
  }
  // STS: the expiry of temporary credentials.
  std::string expiration = xml_text(xml, "Expiration");
  if (auto time = parse_iso8601_utc(expiration)) (void)aws_amz_date(*time);
  (void)parse_iso8601_utc(xml);

  // What we write (a CompleteMultipartUpload body) reads back unchanged.
  std::string element = "<ETag>" + xml_escape(xml) + "</ETag>";
  FUZZ_CHECK(xml_text(element, "ETag") == xml, element);
  return 0;
}
