#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

Result<std::map<std::string, std::string>> SqliteStore::SyncCursors(const std::string& network) {
  return Guard([&]() -> std::map<std::string, std::string> {
    std::map<std::string, std::string> out;
    for (auto& [k, v] : ReadAll(
             "SELECT key, value FROM sync_cursors WHERE network=?1",
             [](Stmt& s) { return std::pair<std::string, std::string>(s.Text(0), s.Text(1)); },
             network))
      out[std::move(k)] = std::move(v);
    return out;
  });
}

Status SqliteStore::SaveSyncCursors(const std::string& network,
                                    const std::map<std::string, std::string>& cursors) {
  return Guard([&] {
    Write([&] {
      Stmt& s = Cached(
          "INSERT INTO sync_cursors VALUES (?1,?2,?3) ON CONFLICT(network, key) DO UPDATE SET "
          "value=excluded.value");
      for (const auto& [k, v] : cursors) s.Bind(1, network).Bind(2, k).Bind(3, v).Run();
    });
  });
}

Result<std::optional<NetworkRun>> SqliteStore::GetNetworkRun(const std::string& network) {
  return Guard([&]() -> std::optional<NetworkRun> {
    return ReadOne(
        "SELECT running, rate_budgets FROM network_runs WHERE network=?1",
        [](Stmt& s) {
          return NetworkRun{s.Int(0) != 0, s.OptText(1)};
        },
        network);
  });
}

Status SqliteStore::SetNetworkRun(const std::string& network, const NetworkRun& run) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_,
             "INSERT INTO network_runs VALUES (?1,?2,?3) ON CONFLICT(network) DO UPDATE SET "
             "running=excluded.running, rate_budgets=excluded.rate_budgets");
      s.Bind(1, network).Bind(2, run.running).Bind(3, run.rate_budgets).Run();
    });
  });
}

Result<std::optional<std::string>> SqliteStore::LastReportWeek() {
  return Guard([&]() -> std::optional<std::string> {
    return ReadOne("SELECT last_report_week FROM daemon_state WHERE last_report_week NOT NULL",
                   [](Stmt& s) { return s.Text(0); });
  });
}

Status SqliteStore::SetLastReportWeek(const std::string& week) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_,
             "INSERT INTO daemon_state(id, last_report_week) VALUES (1, ?1) ON CONFLICT(id) DO "
             "UPDATE SET last_report_week=excluded.last_report_week");
      s.Bind(1, week).Run();
    });
  });
}

Status SqliteStore::ProbeWrite(Time at) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_,
             "INSERT INTO daemon_state(id, probed_at) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET "
             "probed_at=excluded.probed_at");
      s.Bind(1, at).Run();
    });
  });
}

Result<CampaignState> SqliteStore::GetCampaignState(const std::string& campaign) {
  return Guard([&]() -> CampaignState {
    return ReadOne(
               "SELECT first_seen, last_due, steps_posted, ended_at, skip_through, paused, "
               "leaderboard_at FROM campaigns WHERE name=?1",
               [](Stmt& s) {
                 CampaignState c;
                 c.first_seen = s.OptTime(0);
                 c.last_due = s.OptTime(1);
                 c.steps_posted = static_cast<int>(s.Int(2));
                 c.ended_at = s.OptTime(3);
                 c.skip_through = s.OptTime(4);
                 if (!s.IsNull(5)) c.paused = s.Int(5) != 0;
                 c.leaderboard_at = s.OptTime(6);
                 return c;
               },
               campaign)
        .value_or(CampaignState{});
  });
}

Status SqliteStore::UpdateCampaignState(const std::string& campaign,
                                        const std::function<void(CampaignState&)>& change) {
  return Guard([&] {
    Write([&] {
      CampaignState c = Value(GetCampaignState(campaign));
      change(c);
      Stmt s(
          db_,
          "INSERT INTO campaigns VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(name) DO UPDATE SET "
          "first_seen=excluded.first_seen, last_due=excluded.last_due, "
          "steps_posted=excluded.steps_posted, ended_at=excluded.ended_at, "
          "skip_through=excluded.skip_through, paused=excluded.paused, "
          "leaderboard_at=excluded.leaderboard_at");
      s.Bind(1, campaign).Bind(2, c.first_seen).Bind(3, c.last_due).Bind(4, c.steps_posted);
      s.Bind(5, c.ended_at).Bind(6, c.skip_through).Bind(7, c.paused).Bind(8, c.leaderboard_at);
      s.Run();
    });
  });
}

Result<std::optional<std::string>> SqliteStore::SkippedPrompt(const std::string& key) {
  return Guard([&]() -> std::optional<std::string> {
    return ReadOne(
        "SELECT why FROM skipped_prompts WHERE key=?1", [](Stmt& s) { return s.Text(0); }, key);
  });
}

Status SqliteStore::SkipPrompt(const std::string& key, const std::string& why) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_, "INSERT OR REPLACE INTO skipped_prompts VALUES (?1,?2)");
      s.Bind(1, key).Bind(2, why).Run();
    });
  });
}

Result<bool> SqliteStore::Acknowledged(const std::string& message_id) {
  return Guard([&]() -> bool {
    return ReadOne(
               "SELECT 1 FROM acknowledgements WHERE message_id=?1",
               [](Stmt& s) { return s.Int(0); }, message_id)
        .has_value();
  });
}

Status SqliteStore::MarkAcknowledged(const std::string& message_id, Time at,
                                     const std::string& refused) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_, "INSERT OR REPLACE INTO acknowledgements VALUES (?1,?2,?3)");
      s.Bind(1, message_id).Bind(2, at);
      if (refused.empty())
        s.BindNull(3);
      else
        s.Bind(3, refused);
      s.Run();
    });
  });
}

Result<std::optional<bool>> SqliteStore::OptedOut(const std::string& user_id) {
  return Guard([&]() -> std::optional<bool> {
    return ReadOne(
        "SELECT opted_out FROM people WHERE user_id=?1 AND opted_out NOT NULL",
        [](Stmt& s) { return s.Int(0) != 0; }, user_id);
  });
}

Status SqliteStore::SetOptedOut(const std::string& user_id, bool out) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_,
             "INSERT INTO people(user_id, opted_out) VALUES (?1,?2) ON CONFLICT(user_id) DO UPDATE "
             "SET opted_out=excluded.opted_out");
      s.Bind(1, user_id).Bind(2, out).Run();
    });
  });
}

Result<std::map<std::string, bool>> SqliteStore::OptChoices() {
  return Guard([&]() -> std::map<std::string, bool> {
    std::map<std::string, bool> out;
    for (auto& [id, opted_out] :
         ReadAll("SELECT user_id, opted_out FROM people WHERE opted_out NOT NULL",
                 [](Stmt& s) { return std::pair<std::string, bool>(s.Text(0), s.Int(1) != 0); }))
      out[std::move(id)] = opted_out;
    return out;
  });
}

namespace {
std::pair<std::string, Unreachable> ReadUnreachable(Stmt& s) {
  return {s.Text(0), Unreachable{s.TimeAt(1), s.Text(2)}};
}
}  // namespace

Result<std::optional<Unreachable>> SqliteStore::UnreachableSince(const std::string& user_id) {
  return Guard([&]() -> std::optional<Unreachable> {
    auto found = ReadOne(
        "SELECT user_id, unreachable_since, unreachable_why FROM people WHERE user_id=?1 AND "
        "unreachable_since NOT NULL",
        ReadUnreachable, user_id);
    if (!found) return std::nullopt;
    return found->second;
  });
}

Status SqliteStore::MarkUnreachable(const std::string& user_id, const Unreachable& u) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_,
             "INSERT INTO people(user_id, unreachable_since, unreachable_why) VALUES (?1,?2,?3) ON "
             "CONFLICT(user_id) DO UPDATE SET unreachable_since=excluded.unreachable_since, "
             "unreachable_why=excluded.unreachable_why");
      s.Bind(1, user_id).Bind(2, u.since).Bind(3, u.why).Run();
    });
  });
}

Result<std::map<std::string, Unreachable>> SqliteStore::AllUnreachable() {
  return Guard([&]() -> std::map<std::string, Unreachable> {
    std::map<std::string, Unreachable> out;
    for (auto& [id, u] :
         ReadAll("SELECT user_id, unreachable_since, unreachable_why FROM people WHERE "
                 "unreachable_since NOT NULL",
                 ReadUnreachable))
      out[std::move(id)] = std::move(u);
    return out;
  });
}

Result<std::optional<std::string>> SqliteStore::GetSecret(const std::string& key) {
  return Guard([&]() -> std::optional<std::string> {
    return ReadOne(
        "SELECT value FROM secrets WHERE key=?1", [](Stmt& s) { return s.Text(0); }, key);
  });
}

Status SqliteStore::SetSecret(const std::string& key, const std::string& value) {
  return Guard([&] {
    Locked([&] {
      Stmt s(
          db_,
          "INSERT INTO secrets VALUES (?1,?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
      s.Bind(1, key).Bind(2, value).Run();
    });
  });
}

Result<std::map<std::string, std::string>> SqliteStore::SecretsWithPrefix(
    const std::string& prefix) {
  return Guard([&]() -> std::map<std::string, std::string> {
    std::map<std::string, std::string> out;
    for (auto& [k, v] : ReadAll(
             "SELECT key, value FROM secrets WHERE substr(key, 1, length(?1)) = ?1",
             [](Stmt& s) { return std::pair<std::string, std::string>(s.Text(0), s.Text(1)); },
             prefix))
      out[std::move(k)] = std::move(v);
    return out;
  });
}

}  // namespace learnloop::store::sqlite
