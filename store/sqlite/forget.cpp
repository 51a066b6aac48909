#include <algorithm>

#include "core/crypto.h"
#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

namespace {

// Whether the character can be part of an id or a word (ASCII letters and digits, and any byte
// of a multi-byte UTF-8 character).
bool WordByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
}

// `text` with each `word` replaced by `with`; when `whole`, only where it stands alone (not
// inside a longer run of letters and digits). Returns whether anything changed.
bool ReplaceWord(std::string& text, std::string_view word, std::string_view with, bool whole) {
  if (word.empty()) return false;
  bool changed = false;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at)) {
    size_t end = at + word.size();
    if (whole &&
        ((at > 0 && WordByte(text[at - 1])) || (end < text.size() && WordByte(text[end])))) {
      at = end;
      continue;
    }
    text.replace(at, word.size(), with);
    at += with.size();
    changed = true;
  }
  return changed;
}

// What names a person in a text the store keeps, and how it goes when they are forgotten: the
// bot's mention token of them becomes "a colleague", their name and email "[forgotten]", their
// id (whole) "[forgotten]".
struct Scrubber {
  std::string native_id, user_id;
  std::vector<std::string> words;  // name, email

  // The strings a text must contain to need scrubbing (for a first cheap look with instr).
  std::vector<std::string> Needles() const {
    std::vector<std::string> out = words;
    out.push_back(user_id);
    if (native_id.size() >= 4) out.push_back(native_id);
    out.push_back("{{mention:" + native_id + "|");
    return out;
  }
  bool Scrub(std::string& text) const {
    bool changed = false;
    const std::string token = "{{mention:" + native_id + "|";
    for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
      size_t end = text.find("}}", at);
      if (end == std::string::npos) break;
      text.replace(at, end + 2 - at, "a colleague");
      changed = true;
    }
    for (const auto& w : words)
      if (w.size() >= 3) changed |= ReplaceWord(text, w, "[forgotten]", false);
    changed |= ReplaceWord(text, user_id, "[forgotten]", true);
    if (native_id.size() >= 4) changed |= ReplaceWord(text, native_id, "[forgotten]", true);
    return changed;
  }
};

}  // namespace

bool SqliteStore::Forgotten(const std::string& user_id) {
  if (bulk_forgotten_) {
    if (bulk_forgotten_->empty()) return false;
    auto h = Tombstone(user_id, false);
    return h && bulk_forgotten_->count(*h) > 0;
  }
  auto h = Tombstone(user_id, false);
  if (!h) return false;  // nobody has been forgotten
  Stmt& s = Cached("SELECT 1 FROM tombstones WHERE hash=?1");
  s.Bind(1, *h);
  bool found = s.Step();
  s.Reset();
  return found;
}

std::optional<std::string> SqliteStore::Tombstone(const std::string& user_id, bool create) {
  if (tombstone_key_.empty()) {
    if (auto k = Value(GetSecret(kTombstoneKey))) {
      tombstone_key_ = *k;
    } else if (create) {
      tombstone_key_ = crypto::RandomHex(32);
      Check(SetSecret(kTombstoneKey, tombstone_key_));
    } else {
      return std::nullopt;
    }
  }
  return "hmac:" + crypto::HmacSha256Hex(tombstone_key_, user_id);
}

void SqliteStore::HashTombstones() {
  auto raw = ReadAll("SELECT hash, at FROM tombstones WHERE hash GLOB 'id:*'",
                     [](Stmt& s) { return std::pair<std::string, int64_t>(s.Text(0), s.Int(1)); });
  if (raw.empty()) return;
  Write([&] {
    for (const auto& [old, at] : raw) {
      Stmt d(db_, "DELETE FROM tombstones WHERE hash=?1");
      d.Bind(1, old).Run();
      Stmt i(db_, "INSERT OR REPLACE INTO tombstones VALUES (?1, ?2)");
      i.Bind(1, *Tombstone(old.substr(3), true)).Bind(2, at).Run();
    }
  });
}

Result<bool> SqliteStore::IsForgotten(const std::string& user_id) {
  return Guard([&]() -> bool {
    auto lock = Lock();
    return Forgotten(user_id);
  });
}

Result<SqliteStore::ForgetCounts> SqliteStore::ForgetUser(const std::string& user_id, Time at) {
  return Guard([&]() -> SqliteStore::ForgetCounts {
    ForgetCounts n;
    Write([&] {
      auto run = [&](const char* sql) {
        Stmt s(db_, sql);
        s.Bind(1, user_id).Run();
        return sqlite3_changes(db_);
      };
      auto colon = user_id.find(':');
      Scrubber scrub;
      scrub.user_id = user_id;
      scrub.native_id = colon == std::string::npos ? user_id : user_id.substr(colon + 1);
      {
        Stmt u(db_, "SELECT name, email FROM users WHERE id=?1");
        u.Bind(1, user_id);
        if (u.Step()) {
          scrub.words.push_back(u.Text(0));
          if (auto e = u.OptText(1); e && !e->empty()) scrub.words.push_back(*e);
        }
      }
      n.users = run("DELETE FROM users WHERE id=?1");
      n.memberships = run("DELETE FROM memberships WHERE user_id=?1");
      // Their messages (one read of the table, there is no index by author), then those bodies.
      std::vector<int64_t> theirs;
      {
        Stmt m(db_,
               "DELETE FROM messages WHERE author_key=(SELECT key FROM ids WHERE id=?1) "
               "RETURNING key");
        m.Bind(1, user_id);
        while (m.Step()) theirs.push_back(m.Int(0));
      }
      Stmt& body = Cached("DELETE FROM message_bodies WHERE key=?1");
      for (int64_t key : theirs) body.Bind(1, key).Run();
      n.messages = static_cast<int>(theirs.size());
      n.reactions = run("DELETE FROM reactions WHERE user_key=(SELECT key FROM ids WHERE id=?1)");
      n.answers = run("DELETE FROM answers WHERE user_id=?1");
      run("DELETE FROM card_actions WHERE user_id=?1");
      // Mentions of them in other people's messages (lists are stored as JSON arrays).
      std::string quoted = EncodeList({user_id});
      quoted = quoted.substr(1, quoted.size() - 2);
      for (auto& m : ReadAll("SELECT * FROM message_rows WHERE instr(mentions, ?1) > 0",
                             ReadMessage, quoted)) {
        auto before = m.mentions.size();
        m.mentions.erase(std::remove(m.mentions.begin(), m.mentions.end(), user_id),
                         m.mentions.end());
        if (m.mentions.size() == before) continue;
        Stmt u(db_, "UPDATE messages SET mentions=?2 WHERE key=(SELECT key FROM ids WHERE id=?1)");
        u.Bind(1, m.id).Bind(2, EncodeList(m.mentions)).Run();
        ++n.mentions;
      }
      // Prompts put to them by name; one put to them alone (a private question) goes, with
      // the bot's messages in its thread.
      for (auto& p :
           ReadAll("SELECT * FROM prompts WHERE instr(audience, ?1) > 0", ReadPrompt, quoted)) {
        p.audience.erase(std::remove(p.audience.begin(), p.audience.end(), user_id),
                         p.audience.end());
        if (p.audience.empty()) {
          if (!p.message_id.empty()) {
            std::vector<int64_t> bodies;
            Stmt m(db_,
                   "DELETE FROM messages WHERE thread_key=(SELECT key FROM ids WHERE id=?1) "
                   "RETURNING key");
            m.Bind(1, p.message_id);
            while (m.Step()) bodies.push_back(m.Int(0));
            for (int64_t key : bodies) body.Bind(1, key).Run();
            n.messages += static_cast<int>(bodies.size());
          }
          Stmt d(db_, "DELETE FROM prompts WHERE id=?1");
          d.Bind(1, p.id).Run();
          continue;
        }
        Stmt u(db_, "UPDATE prompts SET audience=?2 WHERE id=?1");
        u.Bind(1, p.id).Bind(2, EncodeList(p.audience)).Run();
      }
      // What was still to be sent to them privately.
      {
        Stmt o(db_, "DELETE FROM outbox WHERE network=?1 AND to_user=?2");
        o.Bind(1, user_id.substr(0, colon)).Bind(2, scrub.native_id).Run();
      }
      // Their name, email, id and the bot's mentions of them in anyone's text, and in what the
      // bot has posted or will post (a mention becomes "a colleague").
      for (const auto& needle : scrub.Needles()) {
        for (auto& [key, text] : ReadAll(
                 "SELECT key, text FROM message_bodies WHERE instr(text, ?1) > 0",
                 [](Stmt& s) { return std::pair<int64_t, std::string>(s.Int(0), s.Text(1)); },
                 needle)) {
          if (!scrub.Scrub(text)) continue;
          Stmt u(db_, "UPDATE message_bodies SET text=?2 WHERE key=?1");
          u.Bind(1, key).Bind(2, text).Run();
        }
        for (auto& o : ReadAll(
                 "SELECT * FROM outbox WHERE instr(body, ?1) > 0 OR instr(sent_body, ?1) > 0 OR "
                 "instr(last_error, ?1) > 0",
                 ReadOutbox, needle)) {
          bool changed = scrub.Scrub(o.body);
          changed = scrub.Scrub(o.last_error) || changed;
          if (o.sent_body) changed |= scrub.Scrub(*o.sent_body);
          if (!changed) continue;
          Stmt u(db_, "UPDATE outbox SET body=?2, sent_body=?3, last_error=?4 WHERE key=?1");
          u.Bind(1, o.key).Bind(2, o.body).Bind(3, o.sent_body).Bind(4, o.last_error).Run();
        }
      }
      // What the bot noted about them: their choice and reach, the private prompts skipped (the
      // key of one names them, by native id at its end or between colons).
      run("DELETE FROM people WHERE user_id=?1");
      {
        Stmt k(db_,
               "DELETE FROM skipped_prompts WHERE instr(key, ?1) > 0 OR key LIKE '%:' || ?2 OR "
               "(length(?2) >= 4 AND instr(key, ':' || ?2 || ':') > 0)");
        k.Bind(1, user_id).Bind(2, scrub.native_id).Run();
      }
      // Their key goes too, unless the same id also names a group or a message.
      run("DELETE FROM ids WHERE id=?1 AND NOT EXISTS (SELECT 1 FROM groups WHERE id=?1) AND "
          "NOT EXISTS (SELECT 1 FROM messages m WHERE ids.key IN (m.key, m.thread_key, "
          "m.parent_key, m.group_key)) AND NOT EXISTS (SELECT 1 FROM reactions r WHERE "
          "r.message_key=ids.key)");
      Stmt f(db_, "INSERT OR REPLACE INTO tombstones VALUES (?1, ?2)");
      f.Bind(1, *Tombstone(user_id, true)).Bind(2, at).Run();
    });
    return n;
  });
}

}  // namespace learnloop::store::sqlite
