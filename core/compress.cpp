#include "core/compress.h"

#include <fcntl.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace learnloop {

namespace {

std::string ZipMessage(zip_error_t* e) {
  std::string m = zip_error_strerror(e);
  zip_error_fini(e);
  return m;
}

struct ArchiveCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;

}  // namespace

Result<std::string> MakeZip(const std::vector<ZipEntry>& entries) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (!out) return Result<std::string>::Fail("zip: " + ZipMessage(&err));
  zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  if (!za) {
    zip_source_free(out);
    return Result<std::string>::Fail("zip: " + ZipMessage(&err));
  }
  zip_source_keep(out);  // still ours after zip_close
  auto fail = [&](const std::string& what) {
    std::string m = what + ": " + zip_strerror(za);
    zip_discard(za);
    zip_source_free(out);
    return Result<std::string>::Fail("zip: " + m);
  };
  for (const auto& e : entries) {
    zip_source_t* s = zip_source_buffer(za, e.data.data(), e.data.size(), 0);
    if (!s) return fail(e.name);
    if (zip_file_add(za, e.name.c_str(), s, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) < 0) {
      zip_source_free(s);
      return fail(e.name);
    }
  }
  if (zip_close(za) < 0) return fail("close");
  std::string bytes;
  if (zip_source_open(out) < 0) {
    zip_source_free(out);
    return Result<std::string>::Fail("zip: cannot read the archive back");
  }
  char buf[1 << 16];
  for (;;) {
    zip_int64_t n = zip_source_read(out, buf, sizeof buf);
    if (n < 0) {
      zip_source_close(out);
      zip_source_free(out);
      return Result<std::string>::Fail("zip: cannot read the archive back");
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  zip_source_close(out);
  zip_source_free(out);
  return bytes;
}

Result<std::vector<ZipEntry>> ReadZip(std::string_view bytes) {
  using R = Result<std::vector<ZipEntry>>;
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (!src) return R::Fail("zip: " + ZipMessage(&err));
  Archive za(zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!za) {
    zip_source_free(src);
    return R::Fail("not a readable ZIP archive: " + ZipMessage(&err));
  }
  std::vector<ZipEntry> out;
  zip_int64_t n = zip_get_num_entries(za.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(za.get(), static_cast<zip_uint64_t>(i), 0, &st) < 0)
      return R::Fail(std::string("zip: ") + zip_strerror(za.get()));
    ZipEntry e;
    e.name = st.name ? st.name : "";
    if (!e.name.empty() && e.name.back() == '/') continue;  // a folder
    zip_file_t* f = zip_fopen_index(za.get(), static_cast<zip_uint64_t>(i), 0);
    if (!f) return R::Fail("zip: " + e.name + ": " + zip_strerror(za.get()));
    if (st.valid & ZIP_STAT_SIZE) e.data.reserve(static_cast<size_t>(st.size));
    char buf[1 << 16];
    for (;;) {
      zip_int64_t got = zip_fread(f, buf, sizeof buf);
      if (got < 0) {
        std::string m = zip_file_strerror(f);
        zip_fclose(f);
        return R::Fail("zip: " + e.name + ": " + m);
      }
      if (got == 0) break;
      e.data.append(buf, static_cast<size_t>(got));
    }
    // zip_fclose reports a CRC mismatch of what was read.
    if (int rc = zip_fclose(f); rc != 0) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, rc);
      return R::Fail("zip: " + e.name + ": " + ZipMessage(&ze));
    }
    out.push_back(std::move(e));
  }
  return out;
}

Status GzipAppend(const std::string& path, std::string_view data) {
  // What is archived is what people wrote: readable by its owner only.
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::Fail("cannot open " + path + " for appending: " + std::strerror(errno));
  gzFile f = gzdopen(fd, "ab");
  if (!f) {
    ::close(fd);
    return Status::Fail("cannot open " + path + " for appending");
  }
  size_t done = 0;
  while (done < data.size()) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(data.size() - done, 1u << 30));
    int n = gzwrite(f, data.data() + done, chunk);
    if (n <= 0) {
      int code = 0;
      std::string m = gzerror(f, &code);
      gzclose(f);
      return Status::Fail("cannot write " + path + ": " + m);
    }
    done += static_cast<size_t>(n);
  }
  if (gzclose(f) != Z_OK) return Status::Fail("cannot write " + path);
  return Status::Ok();
}

Result<std::string> GzipRead(const std::string& path, bool* truncated) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return Result<std::string>::Fail("cannot open " + path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int code = 0;
      std::string m = gzerror(f, &code);
      gzclose(f);
      return Result<std::string>::Fail("cannot read " + path + ": " + m);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int code = Z_OK;
  gzerror(f, &code);
  gzclose(f);
  if (truncated)
    *truncated = code == Z_BUF_ERROR;  // the last member ends early
  else if (code == Z_BUF_ERROR)
    return Result<std::string>::Fail("cannot read " + path + ": it ends in the middle");
  return out;
}

}  // namespace learnloop
