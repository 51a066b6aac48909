#pragma once
// Compressed containers, behind our own small interface: ZIP archives (libzip) for the Viva
// Engage Data Export, and gzip files (zlib) for the raw archive of fetched pages.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace learnloop {

struct ZipEntry {
  std::string name;
  std::string data;
};

// A ZIP archive (deflated entries) holding `entries`, as bytes.
Result<std::string> MakeZip(const std::vector<ZipEntry>& entries);
// Every entry of the ZIP archive in `bytes`; an error when it is not a readable archive (cut
// short, corrupt, or an entry whose checksum does not match).
Result<std::vector<ZipEntry>> ReadZip(std::string_view bytes);

// Appends `data` to the gzip file at `path` as one more gzip member (created when missing);
// readers see the members as one stream. Written and flushed before it returns.
// A file it creates is readable by its owner only (0600).
Status GzipAppend(const std::string& path, std::string_view data);
// The whole uncompressed content of a gzip file (every member). A file that ends in the middle
// of a member (a writer stopped while appending) is an error, unless `truncated` is given: it
// is then set and what could be read is returned.
Result<std::string> GzipRead(const std::string& path, bool* truncated = nullptr);

}  // namespace learnloop
