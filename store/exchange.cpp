#include "store/exchange.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "core/files.h"
#include "core/json.h"
#include "core/jsonl.h"

namespace learnloop::store {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> OptTimeStr(const std::optional<Time>& t) {
  if (!t) return std::nullopt;
  return FormatIso(*t);
}

class LineWriter {
 public:
  LineWriter(const fs::path& p) : out_(p, std::ios::binary | std::ios::trunc), path_(p) {}
  bool ok() const { return static_cast<bool>(out_); }
  void Write(const std::string& line) { out_ << line << '\n'; }
  std::string path() const { return path_.string(); }

 private:
  std::ofstream out_;
  fs::path path_;
};

}  // namespace

Result<ExchangeCounts> Export(Store& s, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Result<ExchangeCounts>::Fail("cannot create " + dir + ": " + ec.message());
  ExchangeCounts n;
  auto open = [&](const char* name) { return LineWriter(fs::path(dir) / name); };

  auto users = open("users.jsonl");
  if (!users.ok()) return Result<ExchangeCounts>::Fail("cannot write " + users.path());
  LL_ASSIGN_OR_RETURN(auto all_users, s.AllUsers());
  for (const auto& u : all_users) {
    json::Writer w;
    w.BeginObject().Key("id").String(u.id).Key("network").String(u.network).Key("name").String(
        u.name);
    w.Key("email").OptString(u.email).Key("department").OptString(u.department);
    w.Key("state")
        .String(u.state)
        .Key("is_bot")
        .Bool(u.is_bot)
        .Key("joined_at")
        .OptString(OptTimeStr(u.joined_at));
    users.Write(w.EndObject().Take());
    ++n.users;
  }
  auto groups = open("groups.jsonl");
  LL_ASSIGN_OR_RETURN(auto all_groups, s.AllGroups());
  for (const auto& g : all_groups) {
    json::Writer w;
    w.BeginObject().Key("id").String(g.id).Key("network").String(g.network).Key("name").String(
        g.name);
    w.Key("kind").String(g.kind).Key("members").StringArray(g.members);
    groups.Write(w.EndObject().Take());
    ++n.groups;
  }
  auto messages = open("messages.jsonl");
  std::set<std::string> private_messages;  // not exported, nor their reactions (§1)
  LL_ASSIGN_OR_RETURN(auto all_messages, s.AllMessages());
  for (const auto& m : all_messages) {
    if (m.group_id && IsPrivateGroup(*m.group_id)) {
      private_messages.insert(m.id);
      continue;
    }
    json::Writer w;
    w.BeginObject()
        .Key("id")
        .String(m.id)
        .Key("network")
        .String(m.network)
        .Key("group_id")
        .OptString(m.group_id);
    w.Key("thread_id").String(m.thread_id).Key("reply_to_id").OptString(m.reply_to_id);
    w.Key("author_id").String(m.author_id).Key("created_at").String(FormatIso(m.created_at));
    w.Key("edited_at").OptString(OptTimeStr(m.edited_at)).Key("deleted").Bool(m.deleted);
    w.Key("text").String(m.text).Key("mentions").StringArray(m.mentions).Key("kind").String(m.kind);
    messages.Write(w.EndObject().Take());
    ++n.messages;
  }
  auto reactions = open("reactions.jsonl");
  LL_ASSIGN_OR_RETURN(auto all_reactions, s.AllReactions());
  for (const auto& r : all_reactions) {
    if (private_messages.count(r.message_id)) continue;
    json::Writer w;
    w.BeginObject().Key("message_id").String(r.message_id).Key("user_id").String(r.user_id);
    w.Key("kind").String(r.kind).Key("created_at").OptString(OptTimeStr(r.created_at));
    reactions.Write(w.EndObject().Take());
    ++n.reactions;
  }
  auto prompts = open("prompts.jsonl");
  LL_ASSIGN_OR_RETURN(auto all_prompts, s.AllPrompts());
  for (const auto& p : all_prompts) {
    json::Writer w;
    w.BeginObject()
        .Key("id")
        .String(p.id)
        .Key("campaign")
        .String(p.campaign)
        .Key("step")
        .Int(p.step);
    w.Key("network")
        .String(p.network)
        .Key("group_id")
        .String(p.group_id)
        .Key("message_id")
        .String(p.message_id);
    w.Key("type").String(p.type).Key("posted_at").String(FormatIso(p.posted_at));
    w.Key("closes_at").OptString(OptTimeStr(p.closes_at)).Key("correct").OptString(p.correct);
    w.Key("audience");
    if (p.audience.empty())
      w.Null();
    else
      w.StringArray(p.audience);
    w.Key("last_step");
    if (p.last_step)
      w.Int(*p.last_step);
    else
      w.Null();
    w.Key("spaced").Bool(p.spaced).Key("private").Bool(p.is_private);
    prompts.Write(w.EndObject().Take());
    ++n.prompts;
  }
  auto answers = open("answers.jsonl");
  LL_ASSIGN_OR_RETURN(auto all_answers, s.AllAnswers());
  for (const auto& a : all_answers) {
    json::Writer w;
    w.BeginObject().Key("prompt_id").String(a.prompt_id).Key("user_id").String(a.user_id);
    w.Key("message_id").String(a.message_id).Key("answered_at").String(FormatIso(a.answered_at));
    w.Key("choice").OptString(a.choice).Key("correct").OptBool(a.correct).Key("points").Int(
        a.points);
    answers.Write(w.EndObject().Take());
    ++n.answers;
  }
  return n;
}

namespace {

using jsonl::LineError;

// A line the store could not take: an error of that line.
void Put(const Status& written) {
  if (!written.ok()) throw LineError{written.message()};
}

std::string Req(const jsonl::Object& o, const char* k) {
  auto v = o.String(k);
  if (!v) throw LineError{std::string("missing or non-string '") + k + "'"};
  return std::string(*v);
}

std::optional<std::string> Opt(const jsonl::Object& o, const char* k) {
  auto v = o.String(k);
  if (!v) return std::nullopt;
  return std::string(*v);
}

Time ReqTime(const jsonl::Object& o, const char* k) {
  auto t = ParseIso(Req(o, k));
  if (!t) throw LineError{std::string("'") + k + "' is not an ISO 8601 time"};
  return *t;
}

std::optional<Time> OptTime(const jsonl::Object& o, const char* k) {
  auto s = o.String(k);
  if (!s) return std::nullopt;
  auto t = ParseIso(*s);
  if (!t) throw LineError{std::string("'") + k + "' is not an ISO 8601 time"};
  return t;
}

bool ReqBool(const jsonl::Object& o, const char* k) {
  auto b = o.Bool(k);
  if (!b) throw LineError{std::string("missing or non-boolean '") + k + "'"};
  return *b;
}

Status ReadLines(const fs::path& p, const std::function<void(const jsonl::Object&)>& fn,
                 int64_t& count) {
  return jsonl::ForEachLine(p.string(), fn, count);
}

}  // namespace

Result<ExchangeCounts> Import(Store& s, const std::string& dir) {
  if (!fs::is_directory(dir)) return Result<ExchangeCounts>::Fail(dir + " is not a folder");
  ExchangeCounts n;
  Status st;
  LL_ASSIGN_OR_RETURN(const int64_t reactions_before, s.ReactionCount());
  // An error rolls the transaction back: nothing of the folder is imported.
  LL_TRY(s.BulkTransaction([&]() -> Status {
    st = ReadLines(
        fs::path(dir) / "users.jsonl",
        [&](const jsonl::Object& o) {
          User u;
          u.id = Req(o, "id");
          u.network = Req(o, "network");
          u.name = Opt(o, "name").value_or("");
          u.email = Opt(o, "email");
          u.department = Opt(o, "department");
          u.state = Opt(o, "state").value_or("active");
          u.is_bot = ReqBool(o, "is_bot");
          u.joined_at = OptTime(o, "joined_at");
          Put(s.UpsertUser(u));
        },
        n.users);
    LL_TRY(st);
    st = ReadLines(
        fs::path(dir) / "groups.jsonl",
        [&](const jsonl::Object& o) {
          Group g;
          g.id = Req(o, "id");
          g.network = Req(o, "network");
          g.name = Opt(o, "name").value_or("");
          g.kind = Opt(o, "kind").value_or("community");
          g.members = o.StringArray("members").value_or(std::vector<std::string>{});
          Put(s.UpsertGroup(g));
        },
        n.groups);
    LL_TRY(st);
    st = ReadLines(
        fs::path(dir) / "messages.jsonl",
        [&](const jsonl::Object& o) {
          Message m;
          m.id = Req(o, "id");
          m.network = Req(o, "network");
          m.group_id = Opt(o, "group_id");
          m.thread_id = Req(o, "thread_id");
          m.reply_to_id = Opt(o, "reply_to_id");
          m.author_id = Req(o, "author_id");
          m.created_at = ReqTime(o, "created_at");
          m.edited_at = OptTime(o, "edited_at");
          m.deleted = o.Bool("deleted").value_or(false);
          m.text = Opt(o, "text").value_or("");
          m.mentions = o.StringArray("mentions").value_or(std::vector<std::string>{});
          m.kind = Opt(o, "kind").value_or(m.reply_to_id ? "reply" : "post");
          Put(s.UpsertMessage(m));
        },
        n.messages);
    LL_TRY(st);
    st = ReadLines(
        fs::path(dir) / "reactions.jsonl",
        [&](const jsonl::Object& o) {
          Put(s.UpsertReaction(Reaction{Req(o, "message_id"), Req(o, "user_id"),
                                        Opt(o, "kind").value_or("like"),
                                        OptTime(o, "created_at")}));
        },
        n.reactions);
    LL_TRY(st);
    st = ReadLines(
        fs::path(dir) / "prompts.jsonl",
        [&](const jsonl::Object& o) {
          Prompt p;
          p.id = Req(o, "id");
          p.campaign = Req(o, "campaign");
          p.step = static_cast<int>(o.Int("step").value_or(0));
          p.network = Req(o, "network");
          p.group_id = Req(o, "group_id");
          p.message_id = Req(o, "message_id");
          p.type = Opt(o, "type").value_or("free_text");
          p.posted_at = ReqTime(o, "posted_at");
          p.closes_at = OptTime(o, "closes_at");
          p.correct = Opt(o, "correct");
          p.audience = o.StringArray("audience").value_or(std::vector<std::string>{});
          if (auto last = o.Int("last_step")) p.last_step = static_cast<int>(*last);
          p.spaced = o.Bool("spaced").value_or(false);
          p.is_private = o.Bool("private").value_or(false);
          Put(s.UpsertPrompt(p));
        },
        n.prompts);
    LL_TRY(st);
    st = ReadLines(
        fs::path(dir) / "answers.jsonl",
        [&](const jsonl::Object& o) {
          Answer a;
          a.prompt_id = Req(o, "prompt_id");
          a.user_id = Req(o, "user_id");
          a.message_id = Req(o, "message_id");
          a.answered_at = ReqTime(o, "answered_at");
          a.choice = Opt(o, "choice");
          a.correct = o.Bool("correct");
          a.points = static_cast<int>(o.Int("points").value_or(0));
          Put(s.UpsertAnswer(a));
        },
        n.answers);
    return st;
  }));
  LL_ASSIGN_OR_RETURN(const int64_t reactions_after, s.ReactionCount());
  n.reactions_added = reactions_after - reactions_before;
  return n;
}

Result<ExchangeCounts> ImportIntoNewSqlite(const std::string& store_path, const std::string& dir) {
  const std::string building = store_path + ".importing";
  auto clear = [&] {
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(building + suffix, ec);
  };
  auto fail = [&](const std::string& message) {
    clear();
    return Result<ExchangeCounts>::Fail(message);
  };
  clear();  // a load that stopped before
  Result<ExchangeCounts> n = Result<ExchangeCounts>::Fail("");
  {
    auto s = OpenSqlite(building, {.building = true});
    if (!s.ok()) return fail(s.error().message);
    n = Import(**s, dir);
  }  // closed: back in WAL mode
  if (!n.ok()) return fail(n.error().message);
  // On the disk before it is in place: a power cut after the link must not leave a store
  // whose pages never reached the disk under the real name.
  if (auto s = SyncFile(building); !s.ok()) return fail(s.message());
  // Into place only if nobody has made a store there meanwhile (a link never replaces a file).
  if (link(building.c_str(), store_path.c_str()) != 0)
    return fail("cannot put the new store at " + store_path + ": " + std::strerror(errno));
  clear();
  // The folder's entry for it, too.
  fs::path folder = fs::path(store_path).parent_path();
  if (auto s = SyncFile(folder.empty() ? "." : folder.string()); !s.ok())
    return Result<ExchangeCounts>::Fail(s.message());
  return n;
}

}  // namespace learnloop::store
