#include "config/settings.h"

#include <stdexcept>

namespace learnloop::config {

const Settings::Value& Settings::Get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("setting '" + key + "' is not declared");
  return it->second;
}

namespace {
template <typename T>
const T& As(const Settings::Value& v, const std::string& key) {
  if (const T* t = std::get_if<T>(&v)) return *t;
  throw std::logic_error("setting '" + key + "' is read as another type than declared");
}
}  // namespace

const std::string& Settings::String(const std::string& key) const {
  return As<std::string>(Get(key), key);
}
const Secret& Settings::SecretValue(const std::string& key) const {
  return As<Secret>(Get(key), key);
}
bool Settings::Bool(const std::string& key) const { return As<bool>(Get(key), key); }
int Settings::Int(const std::string& key) const { return As<int>(Get(key), key); }
Millis Settings::Duration(const std::string& key) const { return As<Millis>(Get(key), key); }
std::optional<Time> Settings::Date(const std::string& key) const {
  const Value& v = Get(key);
  if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
  return As<Time>(v, key);
}
const std::vector<std::string>& Settings::List(const std::string& key) const {
  return As<std::vector<std::string>>(Get(key), key);
}

const Settings& Settings::Map(const std::string& key) const {
  auto it = maps_.find(key);
  if (it == maps_.end()) throw std::logic_error("setting '" + key + "' is not a declared mapping");
  return it->second;
}

bool Settings::Given(const std::string& key) const { return given_.count(key) > 0; }

std::optional<Mark> Settings::Where(const std::string& key) const {
  auto it = given_.find(key);
  if (it == given_.end()) return std::nullopt;
  return it->second;
}

std::string Settings::Canonical() const {
  std::string out;
  auto add = [&](const std::string& v) { out += std::to_string(v.size()) + ":" + v + ";"; };
  for (const auto& [key, v] : values_) {
    add(key);
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::monostate>)
            add("-");
          else if constexpr (std::is_same_v<T, std::string>)
            add(x);
          else if constexpr (std::is_same_v<T, Secret>)
            add(x.Reveal());
          else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int>)
            add(std::to_string(x));
          else if constexpr (std::is_same_v<T, Millis>)
            add(std::to_string(x.count()));
          else if constexpr (std::is_same_v<T, Time>)
            add(FormatIso(x));
          else
            for (const auto& s : x) add(s);
        },
        v);
  }
  for (const auto& [key, m] : maps_)
    add(key + (Given(key) ? "+" : "-") + "{" + m.Canonical() + "}");
  return out;
}

void Settings::Set(const std::string& key, Value v) { values_[key] = std::move(v); }
void Settings::SetMap(const std::string& key, Settings s) { maps_[key] = std::move(s); }
void Settings::MarkGiven(const std::string& key, Mark where) { given_[key] = where; }

KeySpec Key(std::string name, KeyType type, std::string doc) {
  KeySpec k;
  k.name = std::move(name);
  k.type = type;
  k.doc = std::move(doc);
  return k;
}
KeySpec KeySpec::Default(std::string v) const {
  KeySpec k = *this;
  k.default_value = std::move(v);
  return k;
}
KeySpec KeySpec::Required() const {
  KeySpec k = *this;
  k.required = true;
  return k;
}
KeySpec KeySpec::Range(int lo, int hi) const {
  KeySpec k = *this;
  k.min = lo;
  k.max = hi;
  return k;
}
KeySpec KeySpec::OneOf(std::vector<std::string> values) const {
  KeySpec k = *this;
  k.choices = std::move(values);
  return k;
}
KeySpec KeySpec::With(std::vector<KeySpec> map_keys) const {
  KeySpec k = *this;
  k.keys = std::move(map_keys);
  return k;
}
KeySpec KeySpec::AlsoNamed(std::string older) const {
  KeySpec k = *this;
  k.older_name = std::move(older);
  return k;
}

const std::vector<KeySpec>& CommonNetworkKeys() {
  using T = KeyType;
  static const std::vector<KeySpec> kKeys = {
      Key("type", T::kString,
          "the kind of network, named by its connector: `yammer` (Viva Engage), `teams` "
          "(Microsoft Teams) or `slack`")
          .Required(),
      Key("name", T::kString,
          "id prefix of everything this network feeds (`yammer:123`); unique, no `:` (default: "
          "the type)"),
      Key("poll_interval", T::kDuration,
          "how often the network is polled (Viva Engage: its feed never more than once a "
          "minute; Teams: each recent thread's replies at most once per interval)")
          .Default("5m"),
      Key("backfill_since", T::kDate,
          "the first poll reads back to here (default: everything the network keeps)"),
      Key("archive", T::kString,
          "a folder: keep every page read from this network in the [raw "
          "archive](#raw-archive) (default: off)"),
      Key("request_timeout", T::kDuration, "per HTTP request").Default("30s"),
      Key("rate_limit_requests", T::kInt,
          "the per-token budget per endpoint class in each `rate_limit_window` (Microsoft's "
          "documented limit); Teams keeps Graph's 4 requests a second per team or channel on "
          "its own")
          .Default("10")
          .Range(1, 10000),
      Key("rate_limit_window", T::kDuration, "the window of `rate_limit_requests`").Default("30s"),
  };
  return kKeys;
}

namespace {
const char* TypeName(const KeySpec& k) {
  switch (k.type) {
    case KeyType::kString:
      return "string";
    case KeyType::kUrl:
      return "URL";
    case KeyType::kChoice:
      return "choice";
    case KeyType::kSecret:
      return "secret";
    case KeyType::kBool:
      return "bool";
    case KeyType::kInt:
      return "integer";
    case KeyType::kDuration:
      return "duration";
    case KeyType::kDate:
      return "date";
    case KeyType::kList:
      return "list";
    case KeyType::kMap:
      return "mapping";
  }
  return "";
}

void Rows(const std::vector<KeySpec>& keys, const std::string& prefix, std::string& out) {
  for (const auto& k : keys) {
    std::string name = "`" + prefix + k.name + "`";
    if (k.type == KeyType::kSecret) name += " / `" + prefix + k.name + "_file`";
    std::string type = TypeName(k);
    if (k.type == KeyType::kChoice) {
      type.clear();
      for (const auto& c : k.choices) type += (type.empty() ? "" : " \\| ") + ("`" + c + "`");
    }
    if (k.type == KeyType::kInt) type += " " + std::to_string(k.min) + "–" + std::to_string(k.max);
    std::string def = k.required                ? "required"
                      : k.default_value.empty() ? "—"
                                                : "`" + k.default_value + "`";
    std::string doc = k.doc;
    if (!k.older_name.empty()) doc += " (also `" + prefix + k.older_name + "`, its older name)";
    out += "| " + name + " | " + type + " | " + def + " | " + doc + " |\n";
    if (k.type == KeyType::kMap) Rows(k.keys, prefix + k.name + ".", out);
  }
}
}  // namespace

std::string KeyTable(const std::vector<KeySpec>& keys) {
  std::string out = "| key | type | default | meaning |\n|---|---|---|---|\n";
  Rows(keys, "", out);
  return out;
}

}  // namespace learnloop::config
