#pragma once
// The raw archive (optional per network): every page a connector fetched while reading the
// ESN, kept compressed and without credentials, with the calls the daemon made, so that a store
// can be rebuilt from it exactly, without calling the ESN (`learnloop replay --archive DIR`).
//
// Layout: DIR/<network>/YYYY-MM-DD.jsonl.gz (UTC day), one gzip member per call. Each line is
// a JSON object: a call ({"call": "start"|"sync"|"poll"|"pushed", "t", "refresh_now",
// "follow", "pushed"}) followed by the answers fetched during it, in order ({"t", "method",
// "url", "status", "headers", "body"}, or {"t", "method", "url", "error"} when no answer came).
// Token requests, request headers and everything fetched outside a call (posting, looking
// for a post, subscriptions, signing keys) are never kept.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/common/http.h"
#include "core/clock.h"
#include "core/json.h"

namespace learnloop::connectors::archive {

struct Call {
  std::string kind;  // start | sync | poll | pushed
  Time t{};
  bool refresh_now = false;
  std::vector<std::string> follow;  // the open prompt threads given to the connector
  std::string pushed;               // what the pushes brought (PushReceiver::TakePushed)
};

// Credentials in a URL's query (access_token, code, client_secret, refresh_token, sig, token)
// replaced by "REDACTED".
std::string RedactUrl(const std::string& url);
// A token request (OAuth form body with grant_type): never archived.
bool IsTokenRequest(const http::Request& r);

class Recorder {
 public:
  Recorder(std::string dir, std::string network, Clock& clock);
  // Starts a call on this thread; the pages fetched on it until End belong to it.
  void Begin(const Call& c);
  // Appends the call and its pages to the day's file.
  Status End();
  void Page(const http::Request& r, const Result<http::Response>& res);

 private:
  std::string dir_;
  Clock& clock_;
  std::mutex mu_;
  std::optional<std::thread::id> thread_;
  std::string buffer_;
  Time began_{};
};

// Sends through `inner` and hands every answer to the recorder.
class RecordingClient final : public http::Client {
 public:
  RecordingClient(std::unique_ptr<http::Client> inner, Recorder& rec)
      : inner_(std::move(inner)), rec_(rec) {}
  Result<http::Response> Send(const http::Request& r) override;

 private:
  std::unique_ptr<http::Client> inner_;
  Recorder& rec_;
};

struct ArchivedCall {
  Call call;
  std::vector<json::Value> pages;
};

// Erases one person (their native id; `words`: their name and email) from every archived page
// of `network` under `dir`, keeping each page's shape so that a replay makes the same requests:
// their id becomes a tombstone id (0, or the nil GUID) that `ForgottenIds` lists and a replay's
// store refuses; what they wrote and their profile become "[forgotten]", in pages and in
// archived Data Export files; their name and email in anyone's text too. Returns how many
// files were rewritten.
Result<int> Forget(const std::string& dir, const std::string& network, const std::string& native_id,
                   const std::vector<std::string>& words);

// The tombstone ids `Forget` left in the archive of `network` (native ids).
std::vector<std::string> ForgottenIds(const std::string& dir, const std::string& network);

// Every call archived for `network` under `dir`, oldest first. `warnings` gets the files whose
// last call was cut short (a crash while appending): what came before it is kept.
Result<std::vector<ArchivedCall>> Read(const std::string& dir, const std::string& network,
                                       std::vector<std::string>* warnings = nullptr);

// Answers requests with the archived pages of one call, in order; a token request gets a
// made-up token. A request that is not the next archived one is an error (the replay has
// diverged: another version of the connector asks differently).
class ReplayClient final : public http::Client {
 public:
  // With a clock: after each answer it is set to when that answer came, so the connector sees
  // the times it saw then.
  explicit ReplayClient(ManualClock* clock = nullptr) : clock_(clock) {}
  void Load(const std::vector<json::Value>* pages);
  Result<http::Response> Send(const http::Request& r) override;
  size_t unread() const { return pages_ ? pages_->size() - next_ : 0; }
  const std::string& divergence() const { return divergence_; }

 private:
  ManualClock* clock_;
  const std::vector<json::Value>* pages_ = nullptr;
  size_t next_ = 0;
  std::string divergence_;
};

// Forwards to a client owned elsewhere (the connector owns its client; the replay keeps one).
class ForwardingClient final : public http::Client {
 public:
  explicit ForwardingClient(http::Client& to) : to_(to) {}
  Result<http::Response> Send(const http::Request& r) override { return to_.Send(r); }

 private:
  http::Client& to_;
};

}  // namespace learnloop::connectors::archive
