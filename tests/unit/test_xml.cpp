#include "runner/util/xml.hpp"

#include <gtest/gtest.h>

using switchyard::decode_xml_entities;
using switchyard::xml_escape;
using switchyard::xml_text;

TEST(Xml, TextOfTheFirstElementIsDecoded) {
  // An S3 error whose message quotes the key: the user should read quotes.
  std::string body =
      "<Error><Code>AccessDenied</Code><Message>no access to &quot;a&amp;b.jar&quot;</Message>"
      "<Message>second</Message></Error>";
  EXPECT_EQ(xml_text(body, "Code"), "AccessDenied");
  EXPECT_EQ(xml_text(body, "Message"), "no access to \"a&b.jar\"");
  EXPECT_EQ(xml_text(body, "UploadId"), "");
  EXPECT_EQ(xml_text("<A>unclosed", "A"), "");
}

TEST(Xml, NumericEntitiesBecomeUtf8AndUnknownOnesStay) {
  EXPECT_EQ(decode_xml_entities("&#65;"), "A");
  EXPECT_EQ(decode_xml_entities("caf&#xE9; &#x1F600;"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(decode_xml_entities("&nbsp; & alone"), "&nbsp; & alone");
}

TEST(Xml, EscapeRoundTripsThroughDecode) {
  std::string etag = "\"9b2cf535f27731c974343645a3985328\" <&> 'x'";
  EXPECT_EQ(decode_xml_entities(xml_escape(etag)), etag);
  EXPECT_EQ(xml_escape("a&b"), "a&amp;b");
}
