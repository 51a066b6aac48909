#pragma once
// Reading an answer out of a reply, as people write it in a thread: "B", "b) because…",
// "option b", the option's own words; "4", "4/5", "★★★★" for a rating.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace learnloop::bot {

// The option (0-based) a reply chooses among `options` (labelled A, B, C… in the prompt), or
// nullopt when it names none or more than one.
std::optional<int> ParseChoice(std::string_view reply, const std::vector<std::string>& options);

// A rating 1..max (default 5) in a reply, or nullopt when there is none or it is ambiguous.
std::optional<int> ParseRating(std::string_view reply, int max = 5);

// "A", "B", … for option i.
std::string OptionLabel(int i);

}  // namespace learnloop::bot
