#include "connectors/common/archive.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "core/compress.h"
#include "core/crypto.h"
#include "core/csv.h"
#include "core/files.h"
#include "core/time.h"

namespace learnloop::connectors::archive {

namespace fs = std::filesystem;

namespace {

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80             ? 0
            : (c & 0xe0) == 0xc0 ? 1
            : (c & 0xf0) == 0xe0 ? 2
            : (c & 0xf8) == 0xf0 ? 3
                                 : -1;
    if (n < 0 || i + n >= s.size() + (n == 0)) return false;
    for (int k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

// Values of credential members in a JSON body replaced by "REDACTED" (pages carry none; this is
// the guard that keeps it so).
std::string ScrubBody(std::string body) {
  for (const char* key :
       {"\"access_token\"", "\"refresh_token\"", "\"client_secret\"", "\"id_token\""}) {
    for (size_t at = body.find(key); at != std::string::npos; at = body.find(key, at + 1)) {
      size_t colon = body.find_first_not_of(" \t\r\n", at + std::string_view(key).size());
      if (colon == std::string::npos || body[colon] != ':') continue;
      size_t open = body.find_first_not_of(" \t\r\n", colon + 1);
      if (open == std::string::npos || body[open] != '"') continue;
      size_t close = open + 1;
      while (close < body.size() && body[close] != '"') close += body[close] == '\\' ? 2 : 1;
      if (close >= body.size()) break;
      body.replace(open + 1, close - open - 1, "REDACTED");
    }
  }
  return body;
}

std::string DayFile(const std::string& dir, Time t) {
  std::string iso = FormatIso(t);
  return (fs::path(dir) / (iso.substr(0, 10) + ".jsonl.gz")).string();
}

}  // namespace

std::string RedactUrl(const std::string& url) {
  auto q = url.find('?');
  if (q == std::string::npos) return url;
  std::string out = url.substr(0, q + 1);
  size_t start = q + 1;
  bool first = true;
  while (start <= url.size()) {
    size_t amp = url.find('&', start);
    std::string part =
        url.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    std::string name = part.substr(0, part.find('='));
    for (const char* secret :
         {"access_token", "code", "client_secret", "refresh_token", "sig", "token"})
      if (name == secret) part = name + "=REDACTED";
    out += (first ? "" : "&") + part;
    first = false;
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

bool IsTokenRequest(const http::Request& r) {
  return r.method == "POST" && r.body.find("grant_type=") != std::string::npos;
}

Recorder::Recorder(std::string dir, std::string network, Clock& clock)
    : dir_((fs::path(dir) / network).string()), clock_(clock) {}

void Recorder::Begin(const Call& c) {
  std::lock_guard lock(mu_);
  thread_ = std::this_thread::get_id();
  began_ = c.t;
  json::Writer w;
  w.BeginObject().Key("call").String(c.kind).Key("t").String(FormatIsoMillis(c.t));
  if (c.kind == "poll") w.Key("refresh_now").Bool(c.refresh_now);
  if (c.kind == "poll" || c.kind == "pushed") w.Key("follow").StringArray(c.follow);
  if (c.kind == "pushed") w.Key("pushed").String(c.pushed);
  w.EndObject();
  buffer_ = w.Take() + "\n";
}

void Recorder::Page(const http::Request& r, const Result<http::Response>& res) {
  std::lock_guard lock(mu_);
  if (!thread_ || *thread_ != std::this_thread::get_id() || IsTokenRequest(r)) return;
  json::Writer w;
  w.BeginObject().Key("t").String(FormatIsoMillis(clock_.Now()));
  w.Key("method").String(r.method).Key("url").String(RedactUrl(r.url));
  if (!res.ok()) {
    w.Key("error").String(res.error().message).EndObject();
  } else {
    w.Key("status").Int(res->status).Key("headers").BeginObject();
    for (const char* h : {"retry-after", "content-type"})
      if (auto v = res->Header(h)) w.Key(h).String(*v);
    w.EndObject();
    if (ValidUtf8(res->body))
      w.Key("body").String(ScrubBody(res->body));
    else
      w.Key("body_base64")
          .String(crypto::Base64UrlEncode(res->body));  // e.g. the Data Export's ZIP
    w.EndObject();
  }
  buffer_ += w.Take() + "\n";
}

Status Recorder::End() {
  std::lock_guard lock(mu_);
  thread_.reset();
  if (buffer_.empty()) return Status::Ok();
  if (auto made = MakePrivateDirs(dir_); !made.ok())
    return Status::Fail("archive: " + made.message());
  auto s = GzipAppend(DayFile(dir_, began_), buffer_);
  buffer_.clear();
  return s;
}

Result<http::Response> RecordingClient::Send(const http::Request& r) {
  auto res = inner_->Send(r);
  rec_.Page(r, res);
  return res;
}

Result<std::vector<ArchivedCall>> Read(const std::string& dir, const std::string& network,
                                       std::vector<std::string>* warnings) {
  using R = Result<std::vector<ArchivedCall>>;
  std::vector<ArchivedCall> out;
  fs::path folder = fs::path(dir) / network;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder, ec))
    if (e.path().string().size() > 9 &&
        e.path().string().substr(e.path().string().size() - 9) == ".jsonl.gz")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    bool truncated = false;
    auto text = GzipRead(f.string(), &truncated);
    if (!text.ok()) return R::Fail("archive: " + text.error().message);
    size_t first_of_file = out.size();
    size_t line_no = 0;
    for (size_t at = 0; at < text->size();) {
      size_t nl = text->find('\n', at);
      if (nl == std::string::npos) break;  // a line without its end: part of a cut call
      std::string_view line(text->data() + at, nl - at);
      at = nl + 1;
      ++line_no;
      auto v = json::Parse(line);
      if (!v.ok() || !v->is_object())
        return R::Fail("archive: " + f.string() + ":" + std::to_string(line_no) +
                       ": not a JSON object");
      if (auto kind = json::GetString(*v, "call")) {
        ArchivedCall c;
        c.call.kind = *kind;
        c.call.t = ParseIso(json::GetString(*v, "t").value_or("")).value_or(Time{});
        c.call.refresh_now = json::GetBool(*v, "refresh_now").value_or(false);
        c.call.follow = json::GetStringArray(*v, "follow").value_or(std::vector<std::string>{});
        c.call.pushed = json::GetString(*v, "pushed").value_or("");
        out.push_back(std::move(c));
      } else if (out.size() > first_of_file) {
        out.back().pages.push_back(std::move(*v));
      } else {
        return R::Fail("archive: " + f.string() + " starts with a page outside any call");
      }
    }
    if (truncated && out.size() > first_of_file) {
      out.pop_back();  // the call being appended when the writer stopped
      if (warnings)
        warnings->push_back(f.string() + " ends in the middle of a call: it is left out");
    }
  }
  return out;
}

void ReplayClient::Load(const std::vector<json::Value>* pages) {
  pages_ = pages;
  next_ = 0;
}

Result<http::Response> ReplayClient::Send(const http::Request& r) {
  using R = Result<http::Response>;
  http::Response res;
  if (IsTokenRequest(r)) {
    res.status = 200;
    res.body = R"({"token_type":"Bearer","expires_in":3600,"access_token":"replay"})";
    return res;
  }
  std::string url = RedactUrl(r.url);
  if (!pages_ || next_ >= pages_->size()) {
    if (divergence_.empty()) divergence_ = r.method + " " + url + " is not in the archive";
    return R::Fail("replay: " + divergence_);
  }
  const json::Value& p = (*pages_)[next_];
  if (json::GetString(p, "method").value_or("") != r.method ||
      json::GetString(p, "url").value_or("") != url) {
    if (divergence_.empty())
      divergence_ = r.method + " " + url + " asked where the archive has " +
                    json::GetString(p, "method").value_or("") + " " +
                    json::GetString(p, "url").value_or("");
    return R::Fail("replay: " + divergence_);
  }
  ++next_;
  if (clock_)
    if (auto t = ParseIso(json::GetString(p, "t").value_or(""))) clock_->Set(*t);
  if (auto e = json::GetString(p, "error")) return R::Fail(*e);
  res.status = static_cast<int>(json::GetInt64(p, "status").value_or(0));
  if (const json::Value* h = json::Find(p, "headers"); h && h->is_object())
    for (const auto& [k, v] : h->as_object())
      if (v.is_string()) res.headers[k] = v.as_string();
  if (auto b = json::GetString(p, "body_base64"))
    res.body = crypto::Base64UrlDecode(*b).value_or("");
  else
    res.body = json::GetString(p, "body").value_or("");
  return res;
}

namespace {

// What erasing one person does to archived pages, keeping each page's shape (the same items,
// ids and times, so a replay makes the same requests): the person's id becomes the tombstone
// id (which the replay's store refuses), what they wrote and their profile (texts of anything
// that is theirs or about them: an object with their id among its values, or whose
// `from`/`user`/`sender`/`mentioned` is) become "[forgotten]", and their id, name and email
// in anyone's text are replaced.
struct Eraser {
  std::string id, tombstone;
  std::vector<std::string> words;

  bool Is(const json::Value& v) const {
    return (v.is_string() || v.is_number()) && json::AsIdString(v) == id;
  }
  bool About(const json::Value& v, int depth = 0) const {
    if (!v.is_object() || depth > 4) return false;
    for (const auto& [k, x] : v.as_object()) {
      if (Is(x)) return true;
      if ((k == "from" || k == "user" || k == "sender" || k == "mentioned") && About(x, depth + 1))
        return true;
    }
    return false;
  }
  static bool Word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }
  std::string Text(std::string s) const {
    for (const auto& w : words) {
      if (w.size() < 3) continue;
      for (size_t at; (at = s.find(w)) != std::string::npos;)
        s.replace(at, w.size(), "[forgotten]");
    }
    for (size_t at = 0; (at = s.find(id, at)) != std::string::npos;) {
      bool alone =
          (at == 0 || !Word(s[at - 1])) && (at + id.size() == s.size() || !Word(s[at + id.size()]));
      if (alone) {
        s.replace(at, id.size(), tombstone);
        at += tombstone.size();
      } else {
        at += id.size();
      }
    }
    return s;
  }
  // Fields that hold what a person wrote or who they are.
  static bool Personal(const std::string& k) {
    static const char* const kKeys[] = {
        "body",        "plain",           "parsed",      "rich",
        "content",     "content_excerpt", "bodyPreview", "subject",
        "full_name",   "first_name",      "last_name",   "name",
        "displayName", "email",           "mail",        "userPrincipalName",
        "job_title",   "mugshot_url",     "web_url",     "summary",
        "title"};
    for (const char* key : kKeys)
      if (k == key) return true;
    return false;
  }
  json::Value Clean(const json::Value& v, bool theirs = false) const {
    if (Is(v))
      return v.is_number() && tombstone.find_first_not_of("0123456789") == std::string::npos
                 ? json::Value::number(static_cast<int64_t>(std::stoll(tombstone)))
                 : json::Value::string(tombstone);
    if (v.is_string()) return json::Value::string(theirs ? "[forgotten]" : Text(v.as_string()));
    if (v.is_array()) {
      json::Value out = json::Value::array();
      size_t n = 0;
      for (const auto& e : v.as_array()) out[n++] = Clean(e, theirs);
      return out;
    }
    if (v.is_object()) {
      bool about = theirs || About(v);
      json::Value out = json::Value::object();
      for (const auto& [k, x] : v.as_object()) out[k] = Clean(x, about && Personal(k));
      return out;
    }
    return v;
  }
  // A page body: JSON cleaned as a tree, anything else as text.
  std::string Body(const std::string& body) const {
    auto v = json::Parse(body);
    if (!v.ok()) return Text(body);
    return json::Dump(Clean(*v));
  }
  // A ZIP of CSV files (the Data Export): rows naming their id go, the rest is cleaned as text.
  std::optional<std::string> Zip(const std::string& bytes) const {
    auto entries = ReadZip(bytes);
    if (!entries.ok()) return std::nullopt;
    for (auto& e : *entries) {
      if (e.name.size() < 4 || e.name.substr(e.name.size() - 4) != ".csv") continue;
      std::string out;
      std::vector<std::string> header;
      auto st = csv::Parse(e.data, [&](std::vector<std::string>& row) {
        if (header.empty()) {
          header = row;
        } else if (std::find(row.begin(), row.end(), id) != row.end()) {
          for (size_t i = 0; i < row.size(); ++i)  // theirs: ids kept in shape, texts gone
            row[i] = row[i] == id                               ? tombstone
                     : i < header.size() && Personal(header[i]) ? "[forgotten]"
                                                                : Text(row[i]);
        } else {
          for (auto& f : row) f = Text(f);
        }
        out += csv::Row(row);
        return true;
      });
      if (!st.ok()) return std::nullopt;
      e.data = out;
    }
    auto zip = MakeZip(*entries);
    if (!zip.ok()) return std::nullopt;
    return *zip;
  }
};

}  // namespace

Result<int> Forget(const std::string& dir, const std::string& network, const std::string& native_id,
                   const std::vector<std::string>& words) {
  fs::path folder = fs::path(dir) / network;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return 0;
  // The tombstone has the id's shape: a number for numeric ids, the nil GUID otherwise.
  bool numeric =
      !native_id.empty() && native_id.find_first_not_of("0123456789") == std::string::npos;
  Eraser e{native_id, numeric ? "0" : "00000000-0000-0000-0000-000000000000", words};
  int rewritten = 0;
  {
    // The replay's store refuses the tombstone id (see ReplayArchive).
    const std::string list = (folder / "forgotten").string(), line = e.tombstone + "\n";
    int fd = ::open(list.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    bool written =
        fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    if (fd >= 0) ::close(fd);
    if (!written) return Result<int>::Fail("archive: cannot write " + list);
  }
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string path = entry.path().string();
    if (path.size() <= 9 || path.substr(path.size() - 9) != ".jsonl.gz") continue;
    bool truncated = false;
    auto text = GzipRead(path, &truncated);
    if (!text.ok()) return Result<int>::Fail("archive: " + text.error().message);
    std::string out;
    for (size_t at = 0; at < text->size();) {
      size_t nl = text->find('\n', at);
      if (nl == std::string::npos) break;  // a cut last call: dropped with the rewrite
      auto v = json::Parse(std::string_view(text->data() + at, nl - at));
      at = nl + 1;
      if (!v.ok() || !v->is_object()) return Result<int>::Fail("archive: " + path + " is damaged");
      if (auto body = json::GetString(*v, "body"))
        (*v)["body"] = json::Value::string(e.Body(*body));
      if (auto pushed = json::GetString(*v, "pushed"); pushed && !pushed->empty())
        (*v)["pushed"] = json::Value::string(e.Body(*pushed));
      if (auto b64 = json::GetString(*v, "body_base64")) {
        auto bytes = crypto::Base64UrlDecode(*b64);
        if (auto zip = bytes ? e.Zip(*bytes) : std::nullopt)
          (*v)["body_base64"] = json::Value::string(crypto::Base64UrlEncode(*zip));
      }
      out += json::Dump(*v) + "\n";
    }
    // Written beside the file, then moved over it: a crash leaves the old file or the new one.
    std::string tmp = path + ".forget";
    fs::remove(tmp, ec);
    if (!out.empty()) {
      auto st = GzipAppend(tmp, out);
      if (!st.ok()) return Result<int>::Fail("archive: " + st.message());
    }
    fs::rename(tmp, path, ec);
    if (ec) return Result<int>::Fail("archive: cannot replace " + path + ": " + ec.message());
    ++rewritten;
  }
  return rewritten;
}

}  // namespace learnloop::connectors::archive

namespace learnloop::connectors::archive {

std::vector<std::string> ForgottenIds(const std::string& dir, const std::string& network) {
  std::vector<std::string> out;
  std::ifstream in(fs::path(dir) / network / "forgotten");
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && std::find(out.begin(), out.end(), line) == out.end()) out.push_back(line);
  return out;
}

}  // namespace learnloop::connectors::archive
