#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

Status SqliteStore::UpsertPrompt(const Prompt& p) {
  return Guard([&] {
    Locked([&] {
      Stmt s(
          db_,
          "INSERT INTO prompts VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) ON "
          "CONFLICT(id) DO UPDATE "
          "SET campaign=excluded.campaign, step=excluded.step, network=excluded.network, "
          "group_id=excluded.group_id, message_id=excluded.message_id, type=excluded.type, "
          "posted_at=excluded.posted_at, closes_at=excluded.closes_at, correct=excluded.correct, "
          "audience=excluded.audience, last_step=excluded.last_step, spaced=excluded.spaced, "
          "private=excluded.private");
      s.Bind(1, p.id).Bind(2, p.campaign).Bind(3, p.step).Bind(4, p.network).Bind(5, p.group_id);
      if (p.message_id.empty())
        s.BindNull(6);
      else
        s.Bind(6, p.message_id);
      s.Bind(7, p.type).Bind(8, p.posted_at).Bind(9, p.closes_at).Bind(10, p.correct);
      if (p.audience.empty())
        s.BindNull(11);
      else
        s.Bind(11, EncodeList(p.audience));
      if (p.last_step)
        s.Bind(12, *p.last_step);
      else
        s.BindNull(12);
      s.Bind(13, p.spaced).Bind(14, p.is_private).Run();
    });
  });
}

Status SqliteStore::DeletePrompt(const std::string& id) {
  return Guard([&] {
    Locked([&] {
      Stmt a(db_, "DELETE FROM answers WHERE prompt_id=?1");
      a.Bind(1, id).Run();
      Stmt p(db_, "DELETE FROM prompts WHERE id=?1");
      p.Bind(1, id).Run();
    });
  });
}

Prompt SqliteStore::ReadPrompt(Stmt& s) {
  Prompt p;
  p.id = s.Text(0);
  p.campaign = s.Text(1);
  p.step = static_cast<int>(s.Int(2));
  p.network = s.Text(3);
  p.group_id = s.Text(4);
  p.message_id = s.Text(5);
  p.type = s.Text(6);
  p.posted_at = s.TimeAt(7);
  p.closes_at = s.OptTime(8);
  p.correct = s.OptText(9);
  if (auto a = s.OptText(10)) p.audience = DecodeList(*a);
  if (!s.IsNull(11)) p.last_step = static_cast<int>(s.Int(11));
  p.spaced = s.Int(12) != 0;
  p.is_private = s.Int(13) != 0;
  return p;
}

Result<std::optional<Prompt>> SqliteStore::GetPrompt(const std::string& id) {
  return Guard([&]() -> std::optional<Prompt> {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM prompts WHERE id=?1");
    s.Bind(1, id);
    if (s.Step()) return ReadPrompt(s);
    return std::nullopt;
  });
}

Status SqliteStore::UpsertAnswer(const Answer& a) {
  return Guard([&] {
    Locked([&] {
      if (Forgotten(a.user_id)) return;
      Stmt& s = Cached(
          "INSERT INTO answers VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(prompt_id,message_id) "
          "DO UPDATE SET user_id=excluded.user_id, answered_at=excluded.answered_at, "
          "choice=excluded.choice, correct=excluded.correct, points=excluded.points");
      s.Bind(1, a.prompt_id).Bind(2, a.user_id).Bind(3, a.message_id).Bind(4, a.answered_at);
      s.Bind(5, a.choice).Bind(6, a.correct).Bind(7, a.points).Run();
    });
  });
}

Status SqliteStore::UpsertCardAction(const CardAction& a) {
  return Guard([&] {
    Locked([&] {
      if (Forgotten(a.user_id)) return;
      Stmt& s = Cached("INSERT OR REPLACE INTO card_actions VALUES (?1,?2,?3,?4,?5,?6)");
      s.Bind(1, a.id).Bind(2, a.network).Bind(3, a.message_id).Bind(4, a.user_id);
      s.Bind(5, a.value).Bind(6, a.at).Run();
    });
  });
}

Result<std::vector<CardAction>> SqliteStore::CardActionsOn(const std::string& message_id) {
  return Guard([&]() -> std::vector<CardAction> {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM card_actions WHERE message_id=?1 ORDER BY at, id");
    s.Bind(1, message_id);
    std::vector<CardAction> out;
    while (s.Step())
      out.push_back(CardAction{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.TimeAt(5)});
    return out;
  });
}

Status SqliteStore::DeleteAnswer(const std::string& prompt_id, const std::string& message_id) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_, "DELETE FROM answers WHERE prompt_id=?1 AND message_id=?2");
      s.Bind(1, prompt_id).Bind(2, message_id).Run();
    });
  });
}

Result<std::map<std::string, std::vector<Answer>>> SqliteStore::AnswersToPrompts(
    const std::vector<std::string>& prompt_ids) {
  return Guard([&]() -> std::map<std::string, std::vector<Answer>> {
    std::map<std::string, std::vector<Answer>> out;
    for (auto& a : ReadAll("SELECT * FROM answers WHERE prompt_id IN (SELECT value FROM "
                           "json_each(?1)) ORDER BY answered_at, message_id",
                           ReadAnswer, EncodeList(prompt_ids)))
      out[a.prompt_id].push_back(std::move(a));
    return out;
  });
}

Result<std::map<std::string, std::vector<CardAction>>> SqliteStore::CardActionsOnMessages(
    const std::vector<std::string>& message_ids) {
  return Guard([&]() -> std::map<std::string, std::vector<CardAction>> {
    auto lock = Lock();
    Stmt s(db_,
           "SELECT * FROM card_actions WHERE message_id IN (SELECT value FROM json_each(?1)) "
           "ORDER BY at, id");
    s.Bind(1, EncodeList(message_ids));
    std::map<std::string, std::vector<CardAction>> out;
    while (s.Step())
      out[s.Text(2)].push_back(
          CardAction{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.TimeAt(5)});
    return out;
  });
}

Result<std::vector<Prompt>> SqliteStore::AllPrompts() {
  return Guard([&]() -> std::vector<Prompt> {
    return ReadAll("SELECT * FROM prompts WHERE message_id IS NOT NULL ORDER BY posted_at, id",
                   ReadPrompt);
  });
}

Result<std::vector<Prompt>> SqliteStore::PromptsOf(const std::string& campaign) {
  return Guard([&]() -> std::vector<Prompt> {
    return ReadAll("SELECT * FROM prompts WHERE campaign=?1 ORDER BY posted_at, id", ReadPrompt,
                   campaign);
  });
}

Result<std::vector<Prompt>> SqliteStore::PromptsOpenAfter(Time t) {
  return Guard([&]() -> std::vector<Prompt> {
    return ReadAll(
        "SELECT * FROM prompts WHERE message_id IS NOT NULL AND (closes_at IS NULL OR "
        "closes_at >= ?1) ORDER BY posted_at, id",
        ReadPrompt, t);
  });
}

Answer SqliteStore::ReadAnswer(Stmt& s) {
  Answer a{s.Text(0),
           s.Text(1),
           s.Text(2),
           s.TimeAt(3),
           s.OptText(4),
           std::nullopt,
           static_cast<int>(s.Int(6))};
  if (!s.IsNull(5)) a.correct = s.Int(5) != 0;
  return a;
}

Result<std::vector<Answer>> SqliteStore::AllAnswers() {
  return Guard([&]() -> std::vector<Answer> {
    return ReadAll("SELECT * FROM answers ORDER BY prompt_id, answered_at, message_id", ReadAnswer);
  });
}

Result<std::vector<Answer>> SqliteStore::AnswersTo(const std::string& prompt_id) {
  return Guard([&]() -> std::vector<Answer> {
    return ReadAll("SELECT * FROM answers WHERE prompt_id=?1 ORDER BY answered_at, message_id",
                   ReadAnswer, prompt_id);
  });
}

}  // namespace learnloop::store::sqlite
