// esn-sim's own behaviour, through its request handler (the HTTP tests are in integration/).
#include <gtest/gtest.h>

#include <set>

#include "core/json.h"
#include "sim/simulator.h"

using namespace learnloop;

namespace {

sim::SimOptions Options() {
  sim::SimOptions o;
  o.org.people = 80;
  o.org.seed = 5;
  o.org.start = *ParseIso("2026-10-05T00:00:00Z");
  o.org.history_days = 14;
  o.org.horizon_days = 14;
  o.token = "t";
  return o;
}

// Sets the simulator's faults (a JSON object as /_sim/faults takes it); the answer's status.
int SetFaults(sim::Simulator& s, const std::string& faults) {
  sim::SimRequest set;
  set.method = "POST";
  set.path = "/_sim/faults";
  set.body = faults;
  return s.Handle(set).status;
}

sim::SimReply Get(sim::Simulator& s, const std::string& path,
                  std::map<std::string, std::string> q = {}, const std::string& token = "t") {
  sim::SimRequest r;
  r.method = "GET";
  r.path = path;
  r.query = std::move(q);
  r.headers["authorization"] = "Bearer " + token;
  sim::SimReply rep = s.Handle(r);
  // A streamed answer (the truth dump) is read to its end, as the HTTP server would send it.
  if (rep.stream)
    for (std::string chunk; true;) {
      chunk.clear();
      bool more = rep.stream(chunk);
      rep.body += chunk;
      if (!more) break;
    }
  return rep;
}

}  // namespace

TEST(Sim, SameSeedSameOrganisation) {
  sim::Simulator a(Options()), b(Options());
  EXPECT_EQ(Get(a, "/_sim/truth").body, Get(b, "/_sim/truth").body);
  auto o = Options();
  o.org.seed = 6;
  sim::Simulator c(o);
  EXPECT_NE(Get(a, "/_sim/truth").body, Get(c, "/_sim/truth").body);
}

TEST(Sim, IdsGrowWithTimeAndFeedsAreNewestFirst) {
  sim::Simulator s(Options());
  auto truth = *json::Parse(Get(s, "/_sim/truth").body);
  int64_t last_id = 0;
  Time last_time{};
  for (const auto& m : truth.at("messages").as_array()) {
    if (*json::GetString(m, "network") != "yammer") continue;  // Teams ids are per channel
    int64_t id = *json::GetInt64(m, "id");
    Time t = *ParseIso(*json::GetString(m, "created_at"));
    EXPECT_GT(id, last_id);
    EXPECT_GE(t, last_time);
    last_id = id;
    last_time = t;
  }
  auto feed = *json::Parse(Get(s, "/api/v1/messages.json").body);
  const auto& msgs = feed.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 20u);
  EXPECT_TRUE(*json::GetBool(feed.at("meta"), "older_available"));
  EXPECT_GT(*json::GetInt64(msgs.at(0), "id"), *json::GetInt64(msgs.at(19), "id"));
  EXPECT_TRUE(ParseYammerTime(*json::GetString(msgs.at(0), "created_at")));
}

TEST(Sim, ABadTokenIs401WithCode16) {
  sim::Simulator s(Options());
  auto r = Get(s, "/api/v1/messages.json", {}, "wrong");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"response":{"message":"Token not found.","code":16,"stat":"fail"}})");
}

TEST(Sim, TheEleventhRequestIn30SecondsIs429EverywhereUntilTheWindowPasses) {
  sim::Simulator s(Options());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Get(s, "/api/v1/messages.json").status, 200);
  auto r = Get(s, "/api/v1/messages.json");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(
      r.body,
      R"({"response":{"message":"Rate limited due to excessive requests.","code":33,"stat":"fail"}})");
  EXPECT_EQ(r.headers.at(0).first, "Retry-After");
  EXPECT_EQ(Get(s, "/api/v1/users.json").status, 429);  // every endpoint
  sim::SimRequest tick;
  tick.method = "POST";
  tick.path = "/_sim/clock";
  tick.body = R"({"advance_seconds": 31})";
  EXPECT_EQ(s.Handle(tick).status, 200);
  EXPECT_EQ(Get(s, "/api/v1/users.json").status, 200);
  auto stats = *json::Parse(Get(s, "/_sim/stats").body);
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 2);
}

TEST(Sim, PostingValidatesAndSimulatedPeopleAnswerThePrompt) {
  sim::Simulator s(Options());
  sim::SimRequest post;
  post.method = "POST";
  post.path = "/api/v1/messages.json";
  post.headers = {{"authorization", "Bearer t"}, {"content-type", "application/json"}};
  post.body = R"({"body": "  ", "group_id": 13114941440})";
  auto blank = s.Handle(post);
  EXPECT_EQ(blank.status, 400);
  EXPECT_EQ(blank.body, R"({"body":["Please include a message"],"code":"body_blank"})");
  post.body = R"({"body": "What did you learn?"})";
  EXPECT_EQ(s.Handle(post).status, 400);  // no target
  post.body = R"({"body": "What did you learn?", "group_id": "13114941440"})";
  auto ok = s.Handle(post);
  ASSERT_EQ(ok.status, 201);
  int64_t id = *json::GetInt64(json::Parse(ok.body)->at("messages").as_array().at(0), "id");
  sim::SimRequest tick;
  tick.method = "POST";
  tick.path = "/_sim/clock";
  tick.body = R"({"advance_seconds": 604800})";
  s.Handle(tick);
  auto thread =
      *json::Parse(Get(s, "/api/v1/messages/in_thread/" + std::to_string(id) + ".json").body);
  EXPECT_GT(thread.at("messages").as_array().size(), 2u);  // the prompt and some answers
  for (const auto& m : thread.at("messages").as_array())
    EXPECT_EQ(*json::GetInt64(m, "thread_id"), id);
}

TEST(Sim, FaultsOnDemand) {
  sim::Simulator s(Options());
  EXPECT_EQ(SetFaults(s, R"({"error_rate": 1})"), 200);
  auto r = Get(s, "/api/v1/users.json");
  EXPECT_TRUE(r.status == 500 || r.status == 503) << r.status;
  SetFaults(s, R"({"error_rate": 0, "truncate_rate": 1})");
  r = Get(s, "/api/v1/users.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(json::Parse(r.body).ok());
  SetFaults(s, R"({"truncate_rate": 0, "noise": true})");
  auto feed = json::Parse(Get(s, "/api/v1/messages.json").body);
  ASSERT_TRUE(feed.ok());
  EXPECT_TRUE(json::Find(feed->at("messages").as_array().at(0), "x_sim_unknown"));
  auto stats = *json::Parse(Get(s, "/_sim/stats").body);
  EXPECT_EQ(*json::GetInt64(stats, "faults"), 2);
  auto log = *json::Parse(Get(s, "/_sim/requests").body);
  EXPECT_EQ(log.as_array().size(), 3u);
  EXPECT_EQ(*json::GetString(log.as_array().at(0), "target"), "/api/v1/users.json");
}

TEST(Sim, ARevokedTokenGets401) {
  sim::Simulator s(Options());
  EXPECT_EQ(Get(s, "/api/v1/users/current.json").status, 200);
  sim::SimRequest revoke;
  revoke.method = "POST";
  revoke.path = "/_sim/tokens";
  revoke.body = R"({"revoke": "t", "add": "t2"})";
  s.Handle(revoke);
  EXPECT_EQ(Get(s, "/api/v1/users/current.json").status, 401);
  EXPECT_EQ(Get(s, "/api/v1/users/current.json", {}, "t2").status, 200);
}

namespace {

int64_t PostAsBot(sim::Simulator& s, const std::string& body_json) {
  sim::SimRequest post;
  post.method = "POST";
  post.path = "/api/v1/messages.json";
  post.headers = {{"authorization", "Bearer t"}, {"content-type", "application/json"}};
  post.body = body_json;
  auto r = s.Handle(post);
  EXPECT_EQ(r.status, 201) << r.body;
  return *json::GetInt64(json::Parse(r.body)->at("messages").as_array().at(0), "id");
}

std::vector<std::string> ThreadReplies(sim::Simulator& s, int64_t root) {
  sim::SimRequest tick;
  tick.method = "POST";
  tick.path = "/_sim/clock";
  tick.body = R"({"advance_seconds": 604800})";
  s.Handle(tick);
  std::vector<std::string> out;
  auto truth = *json::Parse(Get(s, "/_sim/truth").body);
  for (const auto& m : truth.at("messages").as_array())
    if (*json::GetInt64(m, "thread_id") == root && *json::GetInt64(m, "id") != root &&
        !*json::GetBool(m, "by_bot"))
      out.push_back(std::to_string(*json::GetInt64(m, "id")));
  return out;
}

}  // namespace

TEST(Sim, ChoiceQuestionsGetLetterAnswersAndRemindersBringMoreAnswers) {
  sim::Simulator quiz(Options());
  int64_t q = PostAsBot(
      quiz,
      R"({"body":"Which is safer? A) reuse passwords B) a password manager C) sticky notes","group_id":"13114941440"})");
  ThreadReplies(quiz, q);
  // Each reply names one of the letters offered, in its own words; the truth says which.
  auto truth = *json::Parse(Get(quiz, "/_sim/truth").body);
  int letters = 0, replies = 0;
  for (const auto& m : truth.at("messages").as_array()) {
    if (*json::GetInt64(m, "thread_id") != q || *json::GetInt64(m, "id") == q) continue;
    ++replies;
    std::string meant = json::GetString(m, "meant").value_or("");
    letters += meant == "A" || meant == "B" || meant == "C";
  }
  EXPECT_GT(replies, 0);
  EXPECT_EQ(letters, replies);

  const std::string prompt =
      R"({"body":"What did you learn from a colleague this week?","group_id":"13114941440"})";
  sim::Simulator plain(Options()), reminded(Options());
  int64_t a = PostAsBot(plain, prompt);
  int64_t b = PostAsBot(reminded, prompt);
  ASSERT_EQ(a, b);
  PostAsBot(reminded,
            R"({"body":"Reminder: the question is open until Friday.","replied_to_id":")" +
                std::to_string(b) + "\"}");
  EXPECT_GT(ThreadReplies(reminded, b).size(), ThreadReplies(plain, a).size());
}

TEST(Sim, ControlApiReactsAsAPerson) {
  sim::Simulator s(Options());
  auto truth = *json::Parse(Get(s, "/_sim/truth").body);
  int64_t msg = 0, person = 0;
  for (const auto& m : truth.at("messages").as_array())
    if (*json::GetString(m, "network") == "yammer" && !*json::GetBool(m, "system"))
      msg = *json::GetInt64(m, "id");
  for (const auto& u : truth.at("users").as_array())
    if (!*json::GetBool(u, "bot")) person = *json::GetInt64(u, "id");
  sim::SimRequest react;
  react.method = "POST";
  react.path = "/_sim/react";
  react.body =
      "{\"user_id\":" + std::to_string(person) + ",\"message_id\":" + std::to_string(msg) + "}";
  EXPECT_EQ(s.Handle(react).status, 200);
  auto one = *json::Parse(Get(s, "/api/v1/messages/" + std::to_string(msg) + ".json").body);
  bool found = false;
  std::string permalink;  // the person's, as liked_by names them
  for (const auto& u : truth.at("users").as_array())
    if (*json::GetInt64(u, "id") == person) {
      std::string email = *json::GetString(u, "email");
      permalink = email.substr(0, email.find('@'));
    }
  for (const auto& n : one.at("messages").as_array().at(0).at("liked_by").at("names").as_array())
    found |= json::GetInt64(n, "user_id") == person || json::GetString(n, "permalink") == permalink;
  EXPECT_TRUE(found);
}

namespace {

// Every message of the company feed, paged back with older_than.
std::vector<json::Value> CompanyFeed(sim::Simulator& s) {
  std::vector<json::Value> out;
  std::string older;
  for (int page = 0; page < 1000; ++page) {
    std::map<std::string, std::string> q;
    if (!older.empty()) q["older_than"] = older;
    auto r = *json::Parse(Get(s, "/api/v1/messages.json", q).body);
    const auto& msgs = r.at("messages").as_array();
    if (msgs.size() == 0) break;
    for (const auto& m : msgs) out.push_back(m);
    older = std::to_string(*json::GetInt64(msgs.at(msgs.size() - 1), "id"));
  }
  return out;
}

}  // namespace

TEST(Sim, AllCompanyMessagesHaveNoGroupAndAreOnlyInTheCompanyFeed) {
  sim::Simulator s(Options());
  auto truth = *json::Parse(Get(s, "/_sim/truth").body);
  std::set<int64_t> company, in_groups;
  for (const auto& m : truth.at("messages").as_array()) {
    if (*json::GetString(m, "network") != "yammer" || *json::GetBool(m, "system")) continue;
    (json::GetInt64(m, "group_id") ? in_groups : company).insert(*json::GetInt64(m, "id"));
  }
  ASSERT_GT(company.size(), 5u);
  ASSERT_GT(in_groups.size(), 10 * company.size() / 2);  // a tenth as many threads, about
  // Paged through, the company feed has both, and All Company's come without a group_id.
  std::set<int64_t> feed_company, feed_groups;
  for (const auto& m : CompanyFeed(s)) {
    if (*json::GetBool(m, "system_message")) continue;
    (json::Find(m, "group_id") ? feed_groups : feed_company).insert(*json::GetInt64(m, "id"));
  }
  std::set<int64_t> visible_company, visible_groups;  // deleted ones are not in feeds
  for (const auto& m : truth.at("messages").as_array())
    if (*json::GetString(m, "network") == "yammer" && !*json::GetBool(m, "system") &&
        !*json::GetBool(m, "deleted"))
      (json::GetInt64(m, "group_id") ? visible_groups : visible_company)
          .insert(*json::GetInt64(m, "id"));
  EXPECT_EQ(feed_company, visible_company);
  EXPECT_EQ(feed_groups, visible_groups);
  // No community feed has them, and All Company is no group of the directory.
  for (const auto& g : truth.at("groups").as_array()) {
    if (json::GetBool(g, "company_wide").value_or(false)) {
      auto r =
          Get(s, "/api/v1/messages/in_group/" + std::to_string(*json::GetInt64(g, "id")) + ".json");
      EXPECT_EQ(r.status, 404);
    }
  }
}

TEST(Sim, ACommunityHiddenFromTheDirectoryStillHasItsFeedAndMembers) {
  sim::Simulator s(Options());
  auto truth = *json::Parse(Get(s, "/_sim/truth").body);
  int64_t hidden = 0;
  for (const auto& g : truth.at("groups").as_array())
    if (!json::GetBool(g, "listed").value_or(true)) hidden = *json::GetInt64(g, "id");
  ASSERT_NE(hidden, 0);
  auto groups = *json::Parse(Get(s, "/api/v1/groups.json").body);
  for (const auto& g : groups.as_array()) EXPECT_NE(*json::GetInt64(g, "id"), hidden);
  std::string id = std::to_string(hidden);
  EXPECT_EQ(Get(s, "/api/v1/groups/" + id + ".json").status, 200);
  EXPECT_EQ(Get(s, "/api/v1/users/in_group/" + id + ".json").status, 200);
  EXPECT_EQ(Get(s, "/api/v1/messages/in_group/" + id + ".json").status, 200);
  // A refused member list, as without the permission.
  EXPECT_EQ(SetFaults(s, "{\"members_forbidden\": [\"" + id + "\"]}"), 200);
  EXPECT_EQ(Get(s, "/api/v1/users/in_group/" + id + ".json").status, 403);
}

TEST(Sim, SomeLikersAreNamedWithoutAnIdAsInOldData) {
  auto o = Options();
  o.org.like_names_without_id = 0.5;
  sim::Simulator s(o);
  int with = 0, without = 0;
  for (const auto& m : CompanyFeed(s))
    for (const auto& n : m.at("liked_by").at("names").as_array()) {
      EXPECT_TRUE(json::GetString(n, "permalink"));
      EXPECT_TRUE(json::GetString(n, "full_name"));
      (json::GetInt64(n, "user_id") ? with : without)++;
    }
  EXPECT_GT(with, 10);
  EXPECT_GT(without, 10);
}

TEST(Sim, SlacksWebApiGetsTheFaultsToo) {
  sim::Simulator s(Options());
  SetFaults(s, R"({"throttle_rate": 1})");
  sim::SimRequest post;
  post.method = "POST";
  post.path = "/slack/api/chat.postMessage";
  post.headers = {{"authorization", "Bearer t"}, {"content-type", "application/json"}};
  post.body = R"({"channel":"C1","text":"hello"})";
  auto refused = s.Handle(post);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body, R"({"ok":false,"error":"ratelimited"})");
  bool wait_named = false;
  for (const auto& [k, v] : refused.headers) wait_named |= k == "Retry-After" && v == "2";
  EXPECT_TRUE(wait_named);
  EXPECT_EQ(Get(s, "/_sim/bot_posts").body, "[]");  // refused before it was carried out
  SetFaults(s, R"({"throttle_rate": 0, "error_rate": 1})");
  auto failed = Get(s, "/slack/api/users.list");
  EXPECT_TRUE(failed.status == 500 || failed.status == 503) << failed.status;
}

TEST(Sim, AThrottlingFaultHasNoEffect) {
  sim::Simulator s(Options());
  SetFaults(s, R"({"throttle_rate": 1})");
  sim::SimRequest post;
  post.method = "POST";
  post.path = "/api/v1/messages.json";
  post.headers = {{"authorization", "Bearer t"}, {"content-type", "application/json"}};
  post.body = R"({"body":"hello","group_id":"13114941440"})";
  EXPECT_EQ(s.Handle(post).status, 429);
  EXPECT_EQ(Get(s, "/_sim/bot_posts").body, "[]");  // refused before it was carried out
  SetFaults(s, R"({"throttle_rate": 0})");
  EXPECT_EQ(s.Handle(post).status, 201);
  EXPECT_NE(Get(s, "/_sim/bot_posts").body, "[]");
}
