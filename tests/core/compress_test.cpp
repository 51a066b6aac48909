#include "core/compress.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace learnloop;

TEST(Zip, RoundTripsEntriesAndRejectsDamage) {
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  auto zip =
      MakeZip({{"Messages.csv", "id,body\r\n1,hi\r\n"}, {"Users.csv", big}, {"Empty.csv", ""}});
  ASSERT_TRUE(zip.ok()) << zip.error().message;
  EXPECT_EQ(zip->substr(0, 2), "PK");
  EXPECT_LT(zip->size(), big.size());  // deflated
  auto back = ReadZip(*zip);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].name, "Messages.csv");
  EXPECT_EQ((*back)[0].data, "id,body\r\n1,hi\r\n");
  EXPECT_EQ((*back)[1].data, big);
  EXPECT_EQ((*back)[2].data, "");

  EXPECT_FALSE(ReadZip(zip->substr(0, zip->size() / 2)).ok());  // cut short
  EXPECT_FALSE(ReadZip("{\"error\":\"not a zip\"}").ok());
  std::string bad = *zip;
  bad[bad.size() / 2] ^= 0x55;  // a flipped byte inside the compressed data
  auto damaged = ReadZip(bad);
  EXPECT_FALSE(damaged.ok() && damaged->size() == 3 && (*damaged)[1].data == big);
}

TEST(Gzip, AppendsMembersAndReadsThemAsOneStream) {
  auto dir =
      std::filesystem::temp_directory_path() / ("learnloop-gz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "pages.jsonl.gz").string();
  ASSERT_TRUE(GzipAppend(path, "first\n").ok());
  ASSERT_TRUE(GzipAppend(path, std::string(100000, 'z') + "\n").ok());
  ASSERT_TRUE(GzipAppend(path, "third\n").ok());
  auto all = GzipRead(path);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(*all, "first\n" + std::string(100000, 'z') + "\nthird\n");

  // A writer stopped in the middle of the last member: an error, or what was whole.
  auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 10);
  EXPECT_FALSE(GzipRead(path).ok());
  bool truncated = false;
  auto part = GzipRead(path, &truncated);
  ASSERT_TRUE(part.ok());
  EXPECT_TRUE(truncated);
  EXPECT_EQ(part->substr(0, 6), "first\n");
  EXPECT_FALSE(GzipRead((dir / "missing.gz").string()).ok());
  std::filesystem::remove_all(dir);
}
