// The leader's page in a real browser: the HTML report of a simulated month opened in headless
// Chromium loads without a console message or a single network request, shows the headline
// figures of the JSON report, renders on a laptop and a phone, and a community named with
// <script> and onerror= payloads shows them as text without running them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "daemon/run_loop.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

const std::string kYaml = it::ReadConfig("report-page.yaml");

const char* kPayload =
    R"(Ops <script>document.title='owned'</script><img src=x onerror="document.title='owned'">)";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Counts the connections made to it: the browser's proxy, so any request it makes lands here.
struct Trap {
  int fd = -1, port = 0;
  std::atomic<int> connections{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> requests;  // the first line of each
  std::thread t;
  Trap() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    listen(fd, 16);
    t = std::thread([this] {
      while (!stop) {
        int c = accept(fd, nullptr, nullptr);
        if (c < 0) break;
        if (!stop) {
          ++connections;
          char buf[512];
          timeval tv{1, 0};
          setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
          ssize_t n = recv(c, buf, sizeof buf - 1, 0);
          std::lock_guard lock(mu);
          requests.push_back(
              n > 0 ? std::string(buf, static_cast<size_t>(n))
                          .substr(0, std::string(buf, static_cast<size_t>(n)).find('\r'))
                    : "");
        }
        close(c);
      }
    });
  }
  ~Trap() {
    stop = true;
    shutdown(fd, SHUT_RDWR);
    close(fd);
    t.join();
  }
};

int Shell(const std::string& cmd) { return std::system(cmd.c_str()); }

// The value shown on the headline card of `key`.
std::string Card(const std::string& dom, const std::string& key) {
  auto at = dom.find("data-key=\"" + key + "\"");
  if (at == std::string::npos) return "";
  auto v = dom.find("class=\"v\">", at);
  if (v == std::string::npos) return "";
  v += 10;
  return dom.substr(v, dom.find('<', v) - v);
}

double Number(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ','), s.end());
  return std::stod(s);
}

}  // namespace

TEST(ReportPage, LoadsCleanlyInChromiumShowsTheJsonFiguresAndRunsNoInjectedCode) {
  std::string chromium = "chromium";
  if (Shell("command -v chromium > /dev/null 2>&1") != 0)
    FAIL() << "chromium is not installed (scripts/test installs it)";
  it::SimRun run;
  Time start = *ParseIso("2026-10-04T22:00:00Z");  // Monday 5 October, 00:00 in Berlin
  ASSERT_EQ(
      run.Start(start,
                {"--people", "150", "--seed", "5", "--history-days", "7", "--horizon-days", "32"},
                kYaml),
      "");
  {
    daemon::Daemon d(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(d.Start().ok());
    daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{24 * 28});
    ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
  }
  // A community whose name carries markup, as an ESN would hand it over.
  auto groups = Ok(run.store->AllGroups());
  ASSERT_FALSE(groups.empty());
  Group g = groups.front();
  g.name = kPayload;
  Ok(run.store->UpsertGroup(g));
  // And one whose name is 500 characters without a space, with an emoji and a right-to-left
  // override in it: the page must not grow wider than the screen.
  ASSERT_GE(groups.size(), 2u);
  Group wide = groups[1];
  wide.name = "\xE2\x80\xAE" + std::string(240, 'W') + "\xF0\x9F\x9A\x80" + std::string(256, 'M');
  Ok(run.store->UpsertGroup(wide));

  fs::path dir = run.dir;
  fs::path cfg = dir / "page.yaml";
  std::ofstream(cfg) << it::FillConfig("report-command.yaml", {{"STORE", run.cfg->store_path}});
  std::string report = std::string(LEARNLOOP_BIN) + " report --config " + cfg.string() +
                       " --week 2026-W43 --as-of 2026-11-02T00:00:00Z";
  ASSERT_EQ(Shell(report + " --format html --out " + (dir / "page.html").string()), 0);
  ASSERT_EQ(Shell(report + " --format json --out " + (dir / "page.json").string()), 0);
  auto json = json::Parse(ReadFile(dir / "page.json"));
  ASSERT_TRUE(json.ok());
  const auto& totals = json->at("totals");

  Trap trap;
  std::string flags =
      " --headless=new --no-sandbox --disable-gpu --no-first-run "
      "--disable-background-networking --disable-component-update "
      "--disable-sync --disable-default-apps --proxy-server=http://127.0.0.1:" +
      std::to_string(trap.port) + " --proxy-bypass-list='<-loopback>' ";
  std::string url = "file://" + (dir / "page.html").string();
  ASSERT_EQ(Shell(chromium + flags + "--user-data-dir=" + (dir / "profile1").string() +
                  " --enable-logging=stderr --v=0 --virtual-time-budget=3000 --dump-dom " + url +
                  " > " + (dir / "dom.html").string() + " 2> " + (dir / "console.txt").string()),
            0)
      << ReadFile(dir / "console.txt");
  std::string dom = ReadFile(dir / "dom.html");
  std::string console = ReadFile(dir / "console.txt");
  ASSERT_NE(dom.find("id=\"headline\""), std::string::npos) << dom.substr(0, 500);

  // No console message at all (the page has no script; a blocked load would be reported).
  EXPECT_EQ(console.find(":CONSOLE"), std::string::npos) << console;
  // The injected markup is text: the title is the page's own and no image element exists.
  EXPECT_NE(dom.find("<title>learnloop weekly report 2026-W43</title>"), std::string::npos);
  EXPECT_EQ(dom.find("owned</title>"), std::string::npos);
  EXPECT_EQ(dom.find("<img"), std::string::npos);
  EXPECT_EQ(dom.find("<script"), std::string::npos);
  EXPECT_NE(dom.find("Ops &lt;script&gt;document.title='owned'&lt;/script&gt;&lt;img src=x "
                     "onerror=\"document.title='owned'\"&gt;"),
            std::string::npos);

  // The headline strip shows the JSON's figures.
  EXPECT_EQ(Card(dom, "members"), std::to_string(*json::GetInt64(totals, "members")));
  EXPECT_EQ(Card(dom, "active_users"), std::to_string(*json::GetInt64(totals, "active_users")));
  for (const char* ratio : {"engagement_rate", "response_rate"}) {
    std::string shown = Card(dom, ratio);
    ASSERT_NE(shown.find(" %"), std::string::npos) << ratio << ": " << shown;
    EXPECT_NEAR(Number(shown) / 100, *json::GetDouble(totals, ratio), 0.0006) << ratio;
  }
  std::string minutes = Card(dom, "median_first_response_minutes");
  ASSERT_NE(minutes.find(" min"), std::string::npos) << minutes;
  EXPECT_NEAR(Number(minutes), *json::GetDouble(totals, "median_first_response_minutes"), 0.051);

  // On a laptop (1280 px) and a phone (390 px) the page is no wider than the screen, and on
  // the laptop no table needs scrolling either. A copy of the page with a script of the test's
  // (the page has none) measures its layout inside a frame of that width (a headless window is
  // never narrower than 500 px) and tells the frame's parent, which puts it in its title.
  std::string page = ReadFile(dir / "page.html");
  std::string probe =
      "<script>const d=document.documentElement;const wide=[...document.querySelectorAll("
      "'.scroll')].filter(e=>e.scrollWidth>e.clientWidth+1).length;parent.postMessage('layout '+"
      "(d.scrollWidth>window.innerWidth?'overflows':'fits')+' '+d.scrollWidth+'/'+"
      "window.innerWidth+' tables-scrolling '+wide,'*');</script>";
  page.insert(page.rfind("</body>"), probe);
  // (The page's policy allows no script: the copy's allows the probe.)
  size_t csp = page.find("default-src 'none';");
  ASSERT_NE(csp, std::string::npos);
  page.insert(csp + 19, " script-src 'unsafe-inline';");
  std::ofstream(dir / "measure.html") << page;
  for (const auto& [name, width] : {std::pair{"laptop", 1280}, {"phone", 390}}) {
    fs::path frame = dir / (std::string("frame-") + name + ".html");
    std::ofstream(frame) << "<!DOCTYPE html><html><head><title>waiting</title><style>body{margin:0}"
                            "iframe{border:0;display:block}</style></head><body><iframe width=\""
                         << width << "\" height=\"1800\" src=\"measure.html\"></iframe><script>"
                         << "addEventListener('message',e=>{document.title=e.data})</script>"
                            "</body></html>";
    fs::path out = dir / (std::string("measure-") + name + ".html");
    ASSERT_EQ(
        Shell(chromium + flags + "--user-data-dir=" + (dir / ("m-" + std::string(name))).string() +
              " --hide-scrollbars --window-size=1400,1900 --allow-file-access-from-files "
              "--virtual-time-budget=5000 --dump-dom file://" +
              frame.string() + " > " + out.string() + " 2> /dev/null"),
        0)
        << name;
    std::string measured = ReadFile(out);
    size_t t = measured.find("<title>layout ");
    ASSERT_NE(t, std::string::npos) << name << ": " << measured.substr(0, 300);
    std::string title = measured.substr(t + 7, measured.find("</title>", t) - t - 7);
    EXPECT_NE(title.find("layout fits "), std::string::npos) << name << ": " << title;
    EXPECT_NE(title.find("/" + std::to_string(width) + " "), std::string::npos) << title;
    if (width == 1280) {
      EXPECT_NE(title.find("tables-scrolling 0"), std::string::npos) << title;
    }
    std::printf("%s: %s\n", name, title.c_str());
  }

  // Screenshots on a laptop and a phone: real PNG images.
  for (const auto& [name, size] : {std::pair{"laptop", "1280,2400"}, {"phone", "390,1800"}}) {
    fs::path shot = fs::current_path() / (std::string("report-page-") + name + ".png");
    fs::remove(shot);
    ASSERT_EQ(Shell(chromium + flags + "--user-data-dir=" + (dir / name).string() +
                    " --hide-scrollbars --window-size=" + size + " --screenshot=" + shot.string() +
                    " " + url + " > /dev/null 2>&1"),
              0)
        << name;
    std::string png = ReadFile(shot);
    ASSERT_GT(png.size(), 10000u) << name;
    EXPECT_EQ(png.substr(1, 3), "PNG") << name;
  }
  // Nothing left the page: no request reached the proxy.
  // (The browser itself calls its vendor's services — clock, updates, accounts — whatever
  // page it shows; those are not the page's.)
  EXPECT_EQ(dom.find("http://"), std::string::npos);
  EXPECT_EQ(dom.find("https://"), std::string::npos);
  std::lock_guard lock(trap.mu);
  for (const auto& r : trap.requests) {
    std::string host = r.substr(r.find(' ') + 1);
    if (host.rfind("http://", 0) == 0) host = host.substr(7);
    host = host.substr(0, host.find_first_of(":/ "));
    auto ends = [&](const std::string& tail) {
      return host.size() >= tail.size() &&
             host.compare(host.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (ends(".google.com") || ends(".googleapis.com") || ends(".gstatic.com")) continue;
    ADD_FAILURE() << "the page made a request: " << r;
  }
}
