#include "sim/notifications.h"

#include <cstdio>

#include "core/json.h"

namespace learnloop::sim {

namespace {

std::string ChannelPath(const Community& c) {
  return "teams('" + c.team_id + "')/channels('" + c.channel_id + "')";
}

}  // namespace

void Notifier::WriteSubscription(json::Writer& w, const Subscription& s) {
  w.BeginObject()
      .Key("@odata.context")
      .String("https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity");
  w.Key("id")
      .String(s.id)
      .Key("resource")
      .String(s.resource)
      .Key("applicationId")
      .String(identity_.options().client_id);
  w.Key("changeType").String(s.change_type).Key("clientState").String(s.client_state);
  w.Key("notificationUrl").String(s.notification_url);
  w.Key("lifecycleNotificationUrl");
  if (s.lifecycle_url.empty())
    w.Null();
  else
    w.String(s.lifecycle_url);
  w.Key("expirationDateTime").String(FormatIsoMillis(s.expires)).Key("creatorId").String("");
  w.Key("includeResourceData").Bool(false).Key("latestSupportedTlsVersion").String("v1_2");
  w.Key("encryptionCertificate").Null().Key("encryptionCertificateId").Null();
  w.Key("notificationUrlAppId").Null().EndObject();
}

SimReply Notifier::Handle(const SimRequest& r) {
  Time now = world_.Now();
  ++world_.stats().requests["graph_subscriptions"];
  const std::string prefix = "/v1.0/subscriptions";
  std::string id = r.path.size() > prefix.size() + 1 ? r.path.substr(prefix.size() + 1) : "";
  auto ok = [](int status, std::string body) {
    SimReply rep;
    rep.status = status;
    rep.body = std::move(body);
    return rep;
  };
  if (!id.empty()) {
    auto it = subs_.find(id);
    if (it == subs_.end() || it->second.expires <= now)
      return GraphError(404, "ResourceNotFound", "The object was not found.", now);
    Subscription& s = it->second;
    if (r.method == "DELETE") {
      subs_.erase(it);
      return ok(204, "");
    }
    if (r.method == "PATCH") {
      auto v = json::Parse(r.body);
      auto t = v.ok() ? json::GetString(*v, "expirationDateTime") : std::nullopt;
      auto when = t ? ParseIso(*t) : std::nullopt;
      if (!when || *when <= now || *when > now + opt_.max_lifetime)
        return GraphError(
            400, "ExtensionError",
            "Subscription expiration can only be up to the maximum lifetime in the future.", now);
      s.expires = *when;
      s.reauthorization_sent = false;
    }
    json::Writer w;
    WriteSubscription(w, s);
    return ok(200, w.Take());
  }
  if (r.method != "POST")
    return GraphError(405, "MethodNotAllowed", "Use POST to create a subscription.", now);
  auto v = json::Parse(r.body);
  if (!v.ok() || !v->is_object())
    return GraphError(400, "BadRequest", "The body is not JSON.", now);
  Subscription s;
  s.resource = json::GetString(*v, "resource").value_or("");
  s.change_type = json::GetString(*v, "changeType").value_or("");
  s.notification_url = json::GetString(*v, "notificationUrl").value_or("");
  s.lifecycle_url = json::GetString(*v, "lifecycleNotificationUrl").value_or("");
  s.client_state = json::GetString(*v, "clientState").value_or("");
  auto expires = ParseIso(json::GetString(*v, "expirationDateTime").value_or(""));
  // "/teams/{t}/channels/{c}/messages"
  std::string res = s.resource.rfind('/', 0) == 0 ? s.resource.substr(1) : s.resource;
  const std::string tp = "teams/", cp = "/channels/", mp = "/messages";
  auto c_at = res.find(cp);
  if (res.rfind(tp, 0) == 0 && c_at != std::string::npos && res.size() > mp.size() &&
      res.compare(res.size() - mp.size(), mp.size(), mp) == 0)
    s.channel =
        world_.FindChannel(res.substr(tp.size(), c_at - tp.size()),
                           res.substr(c_at + cp.size(), res.size() - mp.size() - c_at - cp.size()));
  if (!s.channel)
    return GraphError(400, "InvalidRequest", "Resource '" + s.resource + "' is not supported.",
                      now);
  if (s.change_type.empty() || s.notification_url.rfind("http", 0) != 0 ||
      s.client_state.size() > 128)
    return GraphError(
        400, "InvalidRequest",
        "changeType, notificationUrl and clientState (at most 128 characters) are required.", now);
  if (!expires || *expires <= now || *expires > now + opt_.max_lifetime)
    return GraphError(
        400, "ExtensionError",
        "Subscription expiration can only be up to the maximum lifetime in the future.", now);
  if (*expires > now + std::chrono::hours{1} && s.lifecycle_url.empty())
    return GraphError(
        400, "InvalidRequest",
        "lifecycleNotificationUrl is required when the expiration is more than an hour ahead.",
        now);
  s.expires = *expires;
  // The validation handshake: the token must come back as text/plain within 10 seconds.
  for (const std::string& url : {s.notification_url, s.lifecycle_url}) {
    if (url.empty()) continue;
    std::string token =
        "Validation: Testing client application reachability for subscription Request-Id: " +
        std::to_string(++counter_);
    std::string sep = url.find('?') == std::string::npos ? "?" : "&";
    auto res2 = HttpPost(url + sep + "validationToken=" + UrlEncode(token), "text/plain", "",
                         std::chrono::seconds{10});
    if (!res2.ok() || res2->status != 200 || res2->body != token)
      return GraphError(400, "ValidationError",
                        "Subscription validation request failed. Notification endpoint must "
                        "respond with 200 OK to "
                        "validation request.",
                        now);
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-5ub5-4c00-9000-%012llx",
                static_cast<unsigned long long>(++counter_),
                static_cast<unsigned long long>(ToUnixMillis(now)));
  s.id = buf;
  subs_[s.id] = s;
  json::Writer w;
  WriteSubscription(w, s);
  return ok(201, w.Take());
}

void Notifier::OnChange(size_t idx, bool created) {
  const Msg& m = world_.messages()[idx];
  const Community* c = world_.FindCommunity(m.group);
  if (!c || !c->IsChannel()) return;
  Time now = world_.Now();
  const Msg& root = world_.messages()[m.thread];
  std::string resource = ChannelPath(*c) + "/messages('" + std::to_string(root.id) + "')";
  if (&root != &m) resource += "/replies('" + std::to_string(m.id) + "')";
  const char* change = created ? "created" : "updated";
  for (const auto& [id, s] : subs_) {
    if (s.channel != c || s.expires <= now || s.change_type.find(change) == std::string::npos)
      continue;
    json::Writer w;
    w.BeginObject().Key("value").BeginArray().BeginObject();
    w.Key("subscriptionId").String(s.id).Key("changeType").String(change);
    w.Key("tenantId").String(identity_.options().tenant).Key("clientState").String(s.client_state);
    w.Key("subscriptionExpirationDateTime")
        .String(FormatIsoMillis(s.expires))
        .Key("resource")
        .String(resource);
    w.Key("resourceData").BeginObject().Key("id").String(std::to_string(m.id));
    w.Key("@odata.type")
        .String("#Microsoft.Graph.chatMessage")
        .Key("@odata.id")
        .String(resource)
        .EndObject();
    w.EndObject().EndArray().EndObject();
    queue_.push_back(
        Delivery{s.notification_url, w.Take(), s.id, 0, now, "notification", {resource}, {}});
  }
}

std::vector<Notifier::Delivery> Notifier::TakeDue() {
  std::vector<Delivery> due;
  Time now = world_.Now();
  for (auto& [id, s] : subs_) {
    if (s.lifecycle_url.empty() || s.reauthorization_sent || s.expires <= now ||
        s.expires - std::chrono::minutes{10} > now)
      continue;
    s.reauthorization_sent = true;
    Lifecycle(s, "reauthorizationRequired");
  }
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->due <= now) {
      due.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return due;
}

void Notifier::Report(Delivery d, bool delivered) {
  ++world_.stats().requests[d.kind + "s_sent"];
  if (delivered) return;
  ++world_.stats().requests[d.kind + "s_failed"];
  if (++d.attempt < opt_.max_attempts) {
    d.due =
        world_.Now() + std::chrono::minutes{1 << std::min(d.attempt, 8)};  // retried with backoff
    queue_.push_back(std::move(d));
    return;
  }
  // Given up: the subscriber hears of it through a `missed` lifecycle event.
  auto it = subs_.find(d.subscription);
  if (d.kind != "notification" || it == subs_.end()) return;
  Lifecycle(it->second, "missed");
}

void Notifier::Lifecycle(const Subscription& s, const std::string& event) {
  if (s.lifecycle_url.empty()) return;
  json::Writer w;
  w.BeginObject().Key("value").BeginArray().BeginObject();
  w.Key("subscriptionId")
      .String(s.id)
      .Key("subscriptionExpirationDateTime")
      .String(FormatIsoMillis(s.expires));
  w.Key("tenantId").String(identity_.options().tenant).Key("clientState").String(s.client_state);
  w.Key("lifecycleEvent").String(event).Key("resource").String(s.resource);
  w.EndObject().EndArray().EndObject();
  queue_.push_back(Delivery{s.lifecycle_url, w.Take(), s.id, 0, world_.Now(), "lifecycle", {}, {}});
}

SimReply Notifier::Trigger(const SimRequest& r) {
  SimReply rep;
  auto v = json::Parse(r.body);
  std::string event = v.ok() ? json::GetString(*v, "event").value_or("") : "";
  std::string only = v.ok() ? json::GetString(*v, "subscription").value_or("") : "";
  if (event != "missed" && event != "reauthorizationRequired" && event != "subscriptionRemoved") {
    rep.status = 400;
    rep.body =
        R"({"error":"event must be missed, reauthorizationRequired or subscriptionRemoved"})";
    return rep;
  }
  int sent = 0;
  for (auto it = subs_.begin(); it != subs_.end();) {
    const Subscription& s = it->second;
    if ((!only.empty() && s.id != only) || s.expires <= world_.Now() || s.lifecycle_url.empty()) {
      ++it;
      continue;
    }
    Lifecycle(s, event);
    ++sent;
    it = event == "subscriptionRemoved" ? subs_.erase(it) : std::next(it);
  }
  json::Writer w;
  w.BeginObject().Key("sent").Int(sent).EndObject();
  rep.body = w.Take();
  return rep;
}

}  // namespace learnloop::sim
