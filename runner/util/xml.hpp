// The little XML the AWS APIs answer with (STS credentials, S3 upload ids
// and errors): flat enough that reading one element's text is all it takes.
#pragma once

#include <string>
#include <string_view>

namespace switchyard {

// Decodes the five named XML entities and numeric ones; anything else is
// kept as written.
std::string decode_xml_entities(std::string_view text);

// The decoded text of the first <tag>...</tag> in `xml`, or "".
std::string xml_text(std::string_view xml, std::string_view tag);

// `text` with &, <, >, " and ' escaped, for element content and attributes.
std::string xml_escape(std::string_view text);

}  // namespace switchyard
