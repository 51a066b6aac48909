#pragma once
// The keys of a kind of network, declared by its connector beside its code (name, type,
// default, doc, secret or not), and the values one network's mapping gives them. config/
// reads the keys every network has, then the network's mapping against its kind's keys: a key
// of another kind is an error at its FILE:LINE:COL.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/secret.h"
#include "core/time.h"

namespace learnloop::config {

enum class KeyType {
  kString,
  kUrl,     // http:// or https://
  kChoice,  // one of `choices`
  kSecret,  // `<key>: ${ENV}` or `<key>_file: PATH`; never in a log
  kBool,
  kInt,       // between `min` and `max`
  kDuration,  // 90s, 15m, 2h, 3d, 1w: at most a year
  kDate,      // 2026-01-31 or an ISO 8601 time in UTC
  kList,      // of strings
  kMap,       // a mapping of the keys in `keys`
};

struct KeySpec {
  std::string name;
  KeyType type = KeyType::kString;
  std::string default_value;  // as written in a file; "" when there is none
  std::string doc;            // one sentence for the documentation's table
  bool required = false;
  std::vector<std::string> choices;  // kChoice
  int min = 0, max = 0;              // kInt
  std::vector<KeySpec> keys;         // kMap
  std::string older_name;            // also read under this name, of an earlier version

  // Declaring: Key("poll_interval", KeyType::kDuration, "how often …").Default("5m").
  KeySpec Default(std::string v) const;
  KeySpec Required() const;
  KeySpec Range(int lo, int hi) const;
  KeySpec OneOf(std::vector<std::string> values) const;
  KeySpec With(std::vector<KeySpec> map_keys) const;
  KeySpec AlsoNamed(std::string older) const;
};

KeySpec Key(std::string name, KeyType type, std::string doc);

// Where a key was given in its file (1-based).
struct Mark {
  int line = 0, col = 0;
};

// A network's values for its kind's keys: each as given, or its default.
class Settings {
 public:
  using Value = std::variant<std::monostate, std::string, Secret, bool, int, Millis, Time,
                             std::vector<std::string>>;

  // Each throws std::logic_error for a key its kind does not declare with that type (a mistake
  // in the connector's code, not in the file).
  const std::string& String(const std::string& key) const;
  const Secret& SecretValue(const std::string& key) const;
  bool Bool(const std::string& key) const;
  int Int(const std::string& key) const;
  Millis Duration(const std::string& key) const;
  std::optional<Time> Date(const std::string& key) const;  // none without a default
  const std::vector<std::string>& List(const std::string& key) const;
  // A mapping's keys (their defaults when the mapping was not given).
  const Settings& Map(const std::string& key) const;
  // Whether its kind declares the key.
  bool Has(const std::string& key) const { return values_.count(key) || maps_.count(key); }
  // Whether the file gives the key (a secret: either of its two spellings).
  bool Given(const std::string& key) const;
  std::optional<Mark> Where(const std::string& key) const;
  // Every value, in key order (secrets revealed: hash it before keeping it anywhere); equal
  // for two networks configured alike.
  std::string Canonical() const;

  // What the reader of the file sets.
  void Set(const std::string& key, Value v);
  void SetMap(const std::string& key, Settings s);
  void MarkGiven(const std::string& key, Mark where);

 private:
  const Value& Get(const std::string& key) const;
  std::map<std::string, Value> values_;
  std::map<std::string, Settings> maps_;
  std::map<std::string, Mark> given_;
};

// One kind of network (an ESN): its keys and what the rest of the product needs to know of it.
struct NetworkKind {
  std::string type;   // the `type:` of a network
  std::string title;  // "Viva Engage (Yammer)"
  std::vector<KeySpec> keys;
  // The rules no single key shows (give this or that, not both): each broken one is said
  // through `error`, at the key it names ("" for the network's mapping).
  using ErrorFn = std::function<void(const std::string& key, const std::string& message)>;
  std::function<void(const Settings&, const ErrorFn& error)> check;
  // What the network reads, for the start's banner: "2 team(s)", "every community".
  std::function<std::string(const Settings&)> scope;
  // People's join dates are known (campaigns of days after joining).
  bool join_dates = false;
  // Private answers reach the bot's endpoint only (the daemon must listen to read them).
  bool private_needs_listener = false;
};

using NetworkKinds = std::vector<NetworkKind>;

// The keys of every network, whatever its kind (config/settings.cpp).
const std::vector<KeySpec>& CommonNetworkKeys();

// A Markdown table of keys (name, type, default, meaning); a mapping's keys follow as
// `parent.key`.
std::string KeyTable(const std::vector<KeySpec>& keys);

}  // namespace learnloop::config
