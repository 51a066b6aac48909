// Lines of the exchange format (METRICS.md §1): the JSON Lines reader with every accessor the
// import uses, and (for inputs whose first byte has its high bit set) the import itself into a
// store. The first byte also picks the file, the rest is its content.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/jsonl.h"
#include "core/time.h"
#include "store/exchange.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace learnloop;
  static const std::string dir = [] {
    char t[] = "/tmp/learnloop-fuzz-XXXXXX";
    return std::string(mkdtemp(t));
  }();
  static const struct Cleanup {  // the folder goes when the run ends
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup;
  static const char* const kFiles[] = {"users",     "groups",  "messages",
                                       "reactions", "prompts", "answers"};
  if (size < 1) return 0;
  for (const char* f : kFiles) std::filesystem::remove(dir + "/" + f + ".jsonl");
  const std::string path = dir + "/" + kFiles[data[0] % 6] + ".jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data) + 1, static_cast<std::streamsize>(size - 1));
  }
  int64_t lines = 0;
  (void)jsonl::ForEachLine(
      path,
      [](const jsonl::Object& o) {
        for (const char* key : {"id", "network", "created_at", "text", "choice"})
          if (auto v = o.String(key); v && key[0] == 'c') (void)ParseIso(std::string(*v));
        (void)o.Bool("deleted");
        (void)o.Int("step");
        (void)o.StringArray("members");
      },
      lines);
  if (data[0] & 0x80) {
    // One store for the run: lines are upserted, as an import into a store in use is.
    static auto s = store::OpenSqlite(dir + "/store.db");
    if (!s.ok()) __builtin_trap();
    (void)store::Import(**s, dir);
  }
  return 0;
}
